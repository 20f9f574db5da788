// `/xnode digest now`: the digests configured for the channel it was typed in
// run at once, as manual jobs on the digest queue (the bot only enqueues; the
// worker checks and posts). In a channel without a digest, one covering every
// configured cluster runs, remembered under its own id.
import type { Queue } from "bullmq";
import { XnodeError } from "../errors.js";
import { DIGEST_JOB, DIGEST_JOB_OPTS, digestIds, idPart, type DigestConfig, type DigestPayload } from "./digest-payloads.js";

export interface DigestRequest {
  channel: string;
  /** Slack user id of whoever asked */
  user: string;
  requestId: string;
}

export async function requestDigestNow(
  queue: Queue,
  config: { digests: readonly DigestConfig[]; clusters: readonly string[] },
  req: DigestRequest,
): Promise<{ digestIds: string[] }> {
  const ids = digestIds(config.digests);
  const here = config.digests.flatMap((d, i) => (d.channel === req.channel ? [{ digestId: ids[i]!, clusters: d.clusters }] : []));
  const targets = here.length > 0 ? here : [{ digestId: `adhoc-${idPart(req.channel)}`, clusters: [...config.clusters] }];
  if (targets.some((t) => t.clusters.length === 0)) {
    throw new XnodeError("CONFIG_INVALID", "no clusters configured", "Add clusters under `clusters:` in the XNODE_CONFIG file.");
  }
  await queue.addBulk(
    targets.map((t) => {
      const data: DigestPayload = { ...t, channel: req.channel, trigger: "manual", requestedBy: req.user };
      // One job per request: a retried enqueue of the same request does not post twice.
      return { name: DIGEST_JOB, data, opts: { ...DIGEST_JOB_OPTS, jobId: `manual-${t.digestId}-${req.requestId}` } };
    }),
  );
  return { digestIds: targets.map((t) => t.digestId) };
}
