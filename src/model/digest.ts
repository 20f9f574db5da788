// What a digest says, as data, and what it remembers for the next one.
import { z } from "zod";
import type { CheckReport, Finding } from "./report.js";

/** One cluster's share of a digest run: a report, or why there is none. */
export interface ClusterOutcome {
  cluster: string;
  report?: CheckReport;
  error?: { message: string; hint?: string };
  /** permalink of the cluster's latest full report thread */
  threadLink?: string;
}

export const failureMemorySchema = z.object({
  /** last time a check had problems or could not run */
  lastFailureAt: z.string().optional(),
  /** start of the current run of failures; unset while healthy */
  failingSince: z.string().optional(),
});
export type FailureMemory = z.infer<typeof failureMemorySchema>;

/** What one digest remembers for the next, per cluster. */
export interface DigestMemory {
  /** problem finding ids at the last digest that could check the cluster */
  findings: Record<string, string[]>;
  failures: Record<string, FailureMemory>;
}

export type DigestTrigger = { kind: "schedule" } | { kind: "manual"; requestedBy?: string };

export interface DigestFinding {
  id: Finding["id"];
  nodes: string[];
  /** absent from the previous digest (never set on a cluster's first digest) */
  isNew: boolean;
}

interface ClusterBase extends FailureMemory {
  cluster: string;
  threadLink?: string;
}

export type ClusterDigest =
  | (ClusterBase & {
      state: "healthy" | "problems";
      /** a previous digest saw this cluster, so "new" and "resolved" mean something */
      compared: boolean;
      findings: DigestFinding[];
      /** ids the previous digest reported that are gone now */
      resolved: string[];
      /** pod-to-pod pairs (both ICMP and TCP answered) out of all ordered node pairs */
      reachable: { ok: number; total: number };
    })
  | (ClusterBase & { state: "unchecked"; error: { message: string; hint?: string } });

export interface DigestContent {
  at: string;
  trigger: DigestTrigger;
  clusters: ClusterDigest[];
  counts: Record<ClusterDigest["state"], number>;
}
