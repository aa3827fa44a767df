import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { DEFAULT_SETTINGS, stationSettingsSchema, type StationSettings } from '../../shared/contract/settings';
import type { AuditActor, AuditContext } from '../audit/record';
import { recordAudit } from '../audit/record';
import type { Db } from '../db/open';
import { settings } from '../db/schema';
import type { Logger } from '../platform/logger';

const STATION_KEY = 'station';
const STATION_ID_KEY = 'station.id';

export class SettingsService {
  /** Every write goes through update(), so the cache cannot go stale; the router reads settings per call. */
  #cache: StationSettings | null = null;

  constructor(
    private readonly db: Db,
    private readonly now: () => number,
    private readonly log: Logger,
  ) {}

  /** A stable id for this station, created on first start; audit rows and outbox rows carry it. */
  stationId(): string {
    const row = this.db.select().from(settings).where(eq(settings.key, STATION_ID_KEY)).get();
    if (row) return JSON.parse(row.value) as string;
    const id = randomUUID();
    this.db
      .insert(settings)
      .values({ key: STATION_ID_KEY, value: JSON.stringify(id), updatedAt: this.now() })
      .onConflictDoNothing()
      .run();
    return this.stationId();
  }

  /** Stored values over defaults; a stored value that no longer validates falls back with a warning. */
  get(): StationSettings {
    this.#cache ??= this.load();
    return { ...this.#cache };
  }

  private load(): StationSettings {
    const row = this.db.select().from(settings).where(eq(settings.key, STATION_KEY)).get();
    if (!row) return { ...DEFAULT_SETTINGS };
    const merged = { ...DEFAULT_SETTINGS, ...(JSON.parse(row.value) as object) };
    const parsed = stationSettingsSchema.safeParse(merged);
    if (parsed.success) return parsed.data;
    this.log.warn({ issues: parsed.error.issues.map((i) => i.path.join('.')) }, 'stored settings invalid; using defaults');
    return { ...DEFAULT_SETTINGS };
  }

  /** A JSON value stored under its own key (e.g. paired scanners), not part of StationSettings. */
  readKey<T>(key: string, fallback: T): T {
    const row = this.db.select().from(settings).where(eq(settings.key, key)).get();
    return row ? (JSON.parse(row.value) as T) : fallback;
  }

  /** The station's own bookkeeping under its key (e.g. the last prewarm), not audited: no person changed it. */
  storeKey(key: string, value: unknown): void {
    const json = JSON.stringify(value);
    this.db
      .insert(settings)
      .values({ key, value: json, updatedAt: this.now() })
      .onConflictDoUpdate({ target: settings.key, set: { value: json, updatedAt: this.now() } })
      .run();
  }

  writeKey(key: string, value: unknown, actor: AuditActor, audit: AuditContext, entry: { action: string; entityId: string; after: unknown }): void {
    this.db.transaction(() => {
      const json = JSON.stringify(value);
      this.db
        .insert(settings)
        .values({ key, value: json, updatedAt: this.now(), updatedBy: actor.userId })
        .onConflictDoUpdate({ target: settings.key, set: { value: json, updatedAt: this.now(), updatedBy: actor.userId } })
        .run();
      recordAudit(this.db, audit, actor, { action: entry.action, entity: key, entityId: entry.entityId, after: entry.after });
    });
  }

  update(patch: Partial<StationSettings>, actor: AuditActor, audit: AuditContext): StationSettings {
    return this.db.transaction((tx) => {
      const before = this.get();
      const after = stationSettingsSchema.parse({ ...before, ...patch });
      tx.insert(settings)
        .values({ key: STATION_KEY, value: JSON.stringify(after), updatedAt: this.now(), updatedBy: actor.userId })
        .onConflictDoUpdate({
          target: settings.key,
          set: { value: JSON.stringify(after), updatedAt: this.now(), updatedBy: actor.userId },
        })
        .run();
      recordAudit(this.db, audit, actor, { action: 'settings.updated', entity: 'settings', entityId: STATION_KEY, before, after });
      this.#cache = null;
      return after;
    });
  }
}
