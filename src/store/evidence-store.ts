// A running check's evidence, each part written once by the step that read
// it and kept with the report's TTL: the snapshot, every node's host state
// (compacted, src/diagnosis/overlay-templates.ts) and every node's
// reachability results. Jobs pass the check's id and node names, never the
// evidence itself, so a 1,000-node check does not copy its evidence through
// every later job's data.
import type { Redis } from "ioredis";
import { clusterSnapshotSchema, hostEvidenceSchema, nodeReachSchema, type ClusterSnapshot, type HostEvidence, type NodeReach } from "../model/index.js";
import { REPORT_TTL_SECONDS } from "./check-store.js";
import { parseStored } from "./parse-stored.js";

/** Snapshots a process keeps parsed: the checks it is working on at once, at most. */
const SNAPSHOTS_KEPT = 4;

export class EvidenceStore {
  /** by check id, least recently used first */
  private readonly snapshots = new Map<string, ClusterSnapshot>();

  constructor(
    private readonly redis: Redis,
    private readonly prefix = "xnode:",
    /** the report's: the evidence behind a report lives as long as the report */
    private readonly ttlSeconds = REPORT_TTL_SECONDS,
  ) {}

  private key(checkId: string, part: "snapshot" | "hosts" | "reach"): string {
    return `${this.prefix}check:${checkId}:${part}`;
  }

  /**
   * The check's snapshot, written once: a start step run again keeps the
   * first one (its jobs and compacted host states already refer to it) and
   * gets it back. So a snapshot never changes, and each process keeps the
   * last few it read instead of reading and parsing them again in every job
   * (a 1,000-node snapshot is about a megabyte).
   */
  async saveSnapshot(checkId: string, snapshot: ClusterSnapshot): Promise<ClusterSnapshot> {
    const written = await this.redis.set(this.key(checkId, "snapshot"), JSON.stringify(snapshot), "EX", this.ttlSeconds, "NX");
    const kept = written === "OK" ? snapshot : await this.loadSnapshot(checkId);
    if (!kept) return this.saveSnapshot(checkId, snapshot); // expired between the two calls
    this.remember(checkId, kept);
    return kept;
  }

  async loadSnapshot(checkId: string): Promise<ClusterSnapshot | undefined> {
    const known = this.snapshots.get(checkId);
    if (known) return known;
    const raw = await this.redis.get(this.key(checkId, "snapshot"));
    if (raw === null) return undefined;
    const snapshot = parseStored(clusterSnapshotSchema, raw, `snapshot of check ${checkId}`);
    this.remember(checkId, snapshot);
    return snapshot;
  }

  private remember(checkId: string, snapshot: ClusterSnapshot): void {
    this.snapshots.delete(checkId);
    this.snapshots.set(checkId, snapshot);
    for (const oldest of this.snapshots.keys()) {
      if (this.snapshots.size <= SNAPSHOTS_KEPT) break;
      this.snapshots.delete(oldest);
    }
  }

  /** Nodes' host states, in one write; written again by a retried step, a node's field is overwritten. */
  async saveHosts(checkId: string, hosts: readonly HostEvidence[]): Promise<void> {
    await this.saveFields(this.key(checkId, "hosts"), hosts);
  }

  /** Every node's host state saved so far, by node. */
  async loadHosts(checkId: string): Promise<Map<string, HostEvidence>> {
    return this.loadFields(this.key(checkId, "hosts"), (raw, node) => parseStored(hostEvidenceSchema, raw, `host evidence of ${node} in check ${checkId}`));
  }

  async saveReaches(checkId: string, reaches: readonly NodeReach[]): Promise<void> {
    await this.saveFields(this.key(checkId, "reach"), reaches);
  }

  async loadReach(checkId: string): Promise<Map<string, NodeReach>> {
    return this.loadFields(this.key(checkId, "reach"), (raw, node) => parseStored(nodeReachSchema, raw, `reachability results of ${node} in check ${checkId}`));
  }

  /** Each value under its node's field, with the key's TTL, in one transaction. */
  private async saveFields(key: string, values: readonly { node: string }[]): Promise<void> {
    if (values.length === 0) return;
    const fields = Object.fromEntries(values.map((v) => [v.node, JSON.stringify(v)]));
    await this.redis.multi().hset(key, fields).expire(key, this.ttlSeconds).exec();
  }

  private async loadFields<T>(key: string, parse: (raw: string, field: string) => T): Promise<Map<string, T>> {
    const fields = await this.redis.hgetall(key);
    return new Map(Object.entries(fields).map(([field, raw]) => [field, parse(raw, field)]));
  }
}
