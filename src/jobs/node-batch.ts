// A chunk's finished nodes, written and counted in batches: one Redis write
// and one progress update per batch instead of per node (at 5,000 nodes the
// per-node writes and progress updates were 8 Redis commands a node a phase,
// and most of a worker's CPU after the execs). A batch goes out when it holds
// `size` nodes or its first node has waited `waitMs`, and whatever is left
// when the chunk ends. Writes run one after another, in order; the first
// that fails is thrown by close(), which fails the chunk (BullMQ retries it,
// and a retried node's result overwrites its earlier one).
export class NodeBatch<T> {
  private pending: T[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writes: Promise<void> = Promise.resolve();
  private failure: { err: unknown } | undefined;

  constructor(
    private readonly write: (items: T[]) => Promise<void>,
    private readonly size = 25,
    private readonly waitMs = 200,
  ) {}

  add(item: T): void {
    this.pending.push(item);
    if (this.pending.length >= this.size) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.waitMs);
  }

  /**
   * Runs the chunk's work, then writes what is left, whether or not the work
   * threw; the work's own error wins over a write's.
   */
  async around<R>(work: () => Promise<R>): Promise<R> {
    let result: R;
    try {
      result = await work();
    } catch (err) {
      await this.close().catch(() => undefined);
      throw err;
    }
    await this.close();
    return result;
  }

  /** Writes what is left, waits for every write, and throws the first write's error. */
  async close(): Promise<void> {
    this.flush();
    await this.writes;
    if (this.failure) throw this.failure.err;
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const items = this.pending.splice(0);
    if (items.length === 0) return;
    this.writes = this.writes
      .then(() => this.write(items))
      .catch((err: unknown) => {
        this.failure ??= { err };
      });
  }
}
