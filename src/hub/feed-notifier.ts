import type pg from 'pg';

/** The channel every hub process LISTENs on; an applied op NOTIFYs it at commit with its seq. */
export const FEED_CHANNEL = 'hub_feed';

/**
 * One LISTEN connection per hub process: tells the feed streams of this process that an op was
 * applied by any hub on the database. After a lost connection (PostgreSQL restarted) it connects
 * again and wakes every stream, which then reads from its own cursor: nothing applied meanwhile
 * is missed, since the streams read the feed table, never the notifications' payloads.
 */
export class FeedNotifier {
  readonly #wakers = new Set<() => void>();
  #client: pg.PoolClient | null = null;
  #closed = false;
  #retry: NodeJS.Timeout | null = null;

  constructor(
    private readonly pool: pg.Pool,
    private readonly log: (line: string) => void,
  ) {}

  async start(): Promise<void> {
    await this.#connect();
  }

  /** `wake` runs after every applied op (and after a reconnect); answers the unsubscribe. */
  subscribe(wake: () => void): () => void {
    this.#wakers.add(wake);
    return () => this.#wakers.delete(wake);
  }

  #wakeAll(): void {
    for (const wake of [...this.#wakers]) wake();
  }

  async #connect(): Promise<void> {
    if (this.#closed) return;
    let client: pg.PoolClient | null = null;
    try {
      client = await this.pool.connect();
      const lost = (why: string) => {
        if (this.#client !== client) return;
        this.#client = null;
        client?.release(true);
        if (this.#closed) return;
        this.log(`feed notifications lost (${why}): connecting again`);
        this.#schedule();
      };
      client.on('notification', () => this.#wakeAll());
      client.on('error', (error) => lost(error.message));
      client.on('end', () => lost('connection ended'));
      await client.query(`LISTEN ${FEED_CHANNEL}`);
      this.#client = client;
      // Anything applied while not listening is read now.
      this.#wakeAll();
    } catch (error) {
      client?.release(true);
      this.log(`cannot listen for feed notifications (${(error as Error).message}): trying again`);
      this.#schedule();
    }
  }

  #schedule(): void {
    if (this.#closed || this.#retry) return;
    this.#retry = setTimeout(() => {
      this.#retry = null;
      void this.#connect();
    }, 500);
  }

  close(): void {
    this.#closed = true;
    if (this.#retry) clearTimeout(this.#retry);
    this.#client?.release(true);
    this.#client = null;
    this.#wakeAll();
  }
}
