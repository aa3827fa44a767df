import type Database from 'better-sqlite3';
import { DomainError } from '../../shared/envelope';
import type { Db } from '../db/open';
import { UpstreamError } from './http';

export interface CachedRead<T> {
  value: T;
  fetchedAt: number;
  fromCache: boolean;
  /** Why the cached copy is shown instead of fresh data, or null. */
  warning: string | null;
}

/**
 * Upstream reads through SQLite: a fresh enough copy is served without a network call; otherwise
 * the upstream is asked, and if it is down (503, timeout, open breaker, garbage) the last copy
 * is served with its age and the reason. Only with no copy at all does the caller see an error.
 */
export class ReadCache {
  readonly #get: Database.Statement;
  readonly #put: Database.Statement;

  constructor(
    db: Db,
    private readonly now: () => number,
  ) {
    this.#get = db.$client.prepare('SELECT fetched_at, value FROM upstream_cache WHERE key = ?');
    this.#put = db.$client.prepare(
      'INSERT INTO upstream_cache (key, upstream, fetched_at, value) VALUES (?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET fetched_at = excluded.fetched_at, value = excluded.value',
    );
  }

  fetchedAt(key: string): number | null {
    return (this.#get.get(key) as { fetched_at: number } | undefined)?.fetched_at ?? null;
  }

  /** The saved copy as it is, without asking the upstream; null when nothing is saved. */
  peek<T>(key: string): { value: T; fetchedAt: number } | null {
    const cached = this.#get.get(key) as { fetched_at: number; value: string } | undefined;
    return cached ? { value: JSON.parse(cached.value) as T, fetchedAt: cached.fetched_at } : null;
  }

  async read<T>(
    key: string,
    upstream: string,
    fetch: () => Promise<T>,
    options: { refresh?: boolean; maxAgeMs?: number } = {},
  ): Promise<CachedRead<T>> {
    const cached = this.#get.get(key) as { fetched_at: number; value: string } | undefined;
    const maxAge = options.maxAgeMs ?? 5 * 60_000;
    if (cached && !options.refresh && this.now() - cached.fetched_at < maxAge) {
      return { value: JSON.parse(cached.value) as T, fetchedAt: cached.fetched_at, fromCache: true, warning: null };
    }
    try {
      const value = await fetch();
      const at = this.now();
      this.#put.run(key, upstream, at, JSON.stringify(value));
      return { value, fetchedAt: at, fromCache: false, warning: null };
    } catch (error) {
      if (!(error instanceof UpstreamError)) throw error;
      if (!cached) throw new DomainError('unavailable', `${error.message}, and nothing is saved on this station yet`);
      return { value: JSON.parse(cached.value) as T, fetchedAt: cached.fetched_at, fromCache: true, warning: error.message };
    }
  }
}
