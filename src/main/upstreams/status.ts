import type { CachedCopy, UpstreamStatus } from '../../shared/contract/sync';
import type { BreakerState } from './http';
import type { ReadCache } from './read-cache';

/** A read upstream's line on the Sync screen, from its client's breaker and its cache. */
export function readUpstreamStatus(upstream: string, b: BreakerState, now: number, cachedAt: number | null): UpstreamStatus {
  const resting = b.state === 'open' && b.openUntil > now;
  return {
    upstream,
    online: !resting && b.lastError === null,
    queued: 0,
    stuck: 0,
    lastSuccessAt: b.lastSuccessAt,
    lastError: b.lastError,
    restingUntil: resting ? b.openUntil : null,
    cachedAt,
  };
}

/**
 * One read an upstream serves (open orders of one ERP, approved LeafTrade orders, BioTrack
 * inventory): fetched through the station cache and reported on the Sync screen the same way.
 */
export class CachedUpstreamRead<T> {
  constructor(
    private readonly deps: {
      cache: ReadCache;
      key: string | (() => string);
      upstream: string;
      breaker: BreakerState | (() => BreakerState);
      now: () => number;
    },
  ) {}

  private get key(): string {
    return typeof this.deps.key === 'string' ? this.deps.key : this.deps.key();
  }

  async read(fetch: () => Promise<T>, refresh: boolean): Promise<{ value: T } & CachedCopy> {
    const read = await this.deps.cache.read(this.key, this.deps.upstream, fetch, { refresh });
    return {
      value: read.value,
      fetchedAt: read.fetchedAt,
      fromCache: read.fromCache,
      ageSeconds: Math.round((this.deps.now() - read.fetchedAt) / 1000),
      warning: read.warning,
    };
  }

  status(): UpstreamStatus {
    const b = typeof this.deps.breaker === 'function' ? this.deps.breaker() : this.deps.breaker;
    return readUpstreamStatus(this.deps.upstream, b, this.deps.now(), this.deps.cache.fetchedAt(this.key));
  }
}
