// How many nodes one probe job covers. A job per node costs its own Redis
// round trips and job record, which at 1,000 nodes is most of a check; one
// job for all would leave the other workers idle and make a retry redo the
// whole cluster. So: CHUNKS_PER_PHASE jobs a phase (more above 3,200 nodes,
// where a job holds MAX_NODES_PER_CHUNK), each node's work inside a job
// running in parallel (bounded by the client's exec slots).
export const CHUNKS_PER_PHASE = 32;
/** a retried job redoes at most this many nodes */
export const MAX_NODES_PER_CHUNK = 100;

export function chunkNodes<T>(items: readonly T[], chunks = CHUNKS_PER_PHASE, maxPerChunk = MAX_NODES_PER_CHUNK): T[][] {
  const size = Math.min(maxPerChunk, Math.max(1, Math.ceil(items.length / chunks)));
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
