import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { RackView } from '../../shared/contract/verify';
import { DomainError } from '../../shared/envelope';
import { describeIssues, HUB_OP_PAYLOADS, newerVersion, rackResource, type HubOpPayload } from '../../shared/hub';
import { recordAudit, type AuditActor, type AuditContext } from '../audit/record';
import type { Db } from '../db/open';
import type { FeedApplier } from '../hub/feed-applier';
import { inspectFile, readRows, type RawCell } from '../imports/sheets';
import { BAGS_UPSTREAM, enqueue } from '../outbox/enqueue';
import type { SettingsService } from '../settings/service';
import { membershipOf } from '../hub/membership';

/**
 * The rack registry: rack id + floor, unique together, site-wide. Every change is audited and, when
 * the station is a member of a site, sent whole to the hub as rack_saved@1 (the newest version wins,
 * as for people); rackApplier applies other stations' versions from the feed.
 */

interface RackRow {
  id: number;
  rack_id: string;
  floor: string;
  name: string | null;
  active: number;
  updated_at: number;
  updated_by: string;
  station: string;
}
interface LeaseRow {
  resource: string;
  user: string;
  station: string;
  since: number;
  expires_at: number | null;
}

/** The lease resource of a rack (the hub's naming). */
export const rackResourceOf = rackResource;

const RACK_HEADERS = {
  rackId: ['rack', 'rack id', 'rackid', 'rack_id', 'rack no', 'rack number'],
  floor: ['floor', 'level'],
  name: ['name', 'rack name', 'description'],
};

function cellText(cell: RawCell | undefined): string {
  if (cell === null || cell === undefined) return '';
  if (typeof cell === 'string') return cell.trim();
  if (typeof cell === 'number' || typeof cell === 'boolean') return String(cell);
  if ('date' in cell) return cell.date;
  return '';
}

/** A rack's version, whole: (rack_id, floor, name, active, updated_at, updated_by, station). */
const UPSERT_RACK = `INSERT INTO racks (rack_id, floor, name, active, updated_at, updated_by, station) VALUES (?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (rack_id, floor) DO UPDATE SET name = excluded.name, active = excluded.active, updated_at = excluded.updated_at,
    updated_by = excluded.updated_by, station = excluded.station`;

function rackPayload(row: RackRow, now: number, by: string, station: string): HubOpPayload<'rack_saved@1'> {
  return {
    rackId: row.rack_id,
    floor: row.floor,
    ...(row.name ? { name: row.name } : {}),
    active: row.active === 1,
    updatedAt: row.updated_at,
    at: now,
    by,
    station,
  };
}

export class RackRegistry {
  constructor(
    private readonly deps: {
      db: Db;
      audit: AuditContext;
      settings: SettingsService;
      now: () => number;
      /** A temp folder for an uploaded rack file. */
      tmpDir: string;
      changed: () => void;
    },
  ) {}

  list(includeInactive: boolean): RackView[] {
    const sqlite = this.deps.db.$client;
    const rows = sqlite.prepare(`SELECT * FROM racks ${includeInactive ? '' : 'WHERE active = 1'} ORDER BY floor, rack_id`).all() as RackRow[];
    const leases = new Map(
      (sqlite.prepare("SELECT resource, user, station, since, expires_at FROM rack_leases WHERE resource LIKE 'rack:%'").all() as LeaseRow[]).map(
        (l) => [l.resource, l],
      ),
    );
    return rows.map((r) => this.#view(r, leases.get(rackResourceOf({ rackId: r.rack_id, floor: r.floor })) ?? null));
  }

  get(rackId: string, floor: string): RackRow | null {
    return (this.deps.db.$client.prepare('SELECT * FROM racks WHERE rack_id = ? AND floor = ?').get(rackId, floor) as RackRow | undefined) ?? null;
  }

  #view(r: RackRow, l: LeaseRow | null): RackView {
    return {
      rackId: r.rack_id,
      floor: r.floor,
      name: r.name,
      active: r.active === 1,
      updatedAt: r.updated_at,
      updatedBy: r.updated_by,
      lease: l ? { user: l.user, station: l.station, since: l.since, expiresAt: l.expires_at } : null,
    };
  }

  /** Creates or edits a rack inside a transaction: audited, and queued for the site when a member. */
  save(input: { rackId: string; floor: string; name?: string; active: boolean }, actor: AuditActor): RackView {
    const result = this.deps.db.$client.transaction(() => this.#saveOne(input, actor))();
    this.deps.changed();
    return this.#view(result.row, null);
  }

  #saveOne(
    input: { rackId: string; floor: string; name?: string; active: boolean },
    actor: AuditActor,
  ): { row: RackRow; change: 'created' | 'updated' | 'unchanged' } {
    const sqlite = this.deps.db.$client;
    const before = this.get(input.rackId, input.floor);
    const name = input.name === undefined ? (before?.name ?? null) : input.name || null;
    if (before && before.name === name && (before.active === 1) === input.active) return { row: before, change: 'unchanged' };
    const site = membershipOf(this.deps.settings);
    const now = this.deps.now();
    const updatedAt = Math.max(now, (before?.updated_at ?? 0) + 1);
    const by = actor.username ?? 'station';
    sqlite.prepare(UPSERT_RACK).run(input.rackId, input.floor, name, input.active ? 1 : 0, updatedAt, by, site?.stationName ?? '');
    const row = this.get(input.rackId, input.floor)!;
    recordAudit(this.deps.db, this.deps.audit, actor, {
      action: before ? 'rack.updated' : 'rack.created',
      entity: 'rack',
      entityId: rackResourceOf(input),
      ...(before ? { before: this.#view(before, null) } : {}),
      after: this.#view(row, null),
    });
    if (site) enqueue(this.deps.db, now, { op: 'rack_saved@1', upstream: BAGS_UPSTREAM, payload: rackPayload(row, now, by, site.stationName) });
    return { row, change: before ? 'updated' : 'created' };
  }

  /** When the station joins a site, inside the join's transaction: every rack it has (the hub keeps the newer of two versions). */
  enqueueAll(by: string): number {
    const site = membershipOf(this.deps.settings);
    if (!site) return 0;
    const rows = this.deps.db.$client.prepare('SELECT * FROM racks').all() as RackRow[];
    const now = this.deps.now();
    for (const row of rows)
      enqueue(this.deps.db, now, { op: 'rack_saved@1', upstream: BAGS_UPSTREAM, payload: rackPayload(row, now, by, site.stationName) });
    return rows.length;
  }

  /**
   * Racks from a CSV or XLSX file (the import wizard's sheet readers: hostile files refused in words):
   * a header row naming rack id and floor (name optional), then one rack a row. Every row is checked
   * first; one bad row refuses the file naming its line, and nothing is saved.
   */
  async importFile(fileName: string, base64: string, actor: AuditActor): Promise<{ created: number; updated: number; unchanged: number }> {
    fs.mkdirSync(this.deps.tmpDir, { recursive: true });
    const file = path.join(this.deps.tmpDir, `racks-${randomUUID()}${path.extname(fileName).toLowerCase()}`);
    fs.writeFileSync(file, Buffer.from(base64, 'base64'), { mode: 0o600 });
    const racks: { rackId: string; floor: string; name?: string; line: number }[] = [];
    try {
      const info = await inspectFile(file, fileName);
      let columns: { rackId: number; floor: number; name: number } | null = null;
      for await (const batch of readRows(file, fileName, { kind: info.kind, sheet: 0, delimiter: info.delimiter, encoding: info.encoding })) {
        for (const row of batch) {
          const cells = row.cells.map(cellText);
          if (!columns) {
            const find = (names: string[]) => cells.findIndex((c) => names.includes(c.toLowerCase()));
            columns = { rackId: find(RACK_HEADERS.rackId), floor: find(RACK_HEADERS.floor), name: find(RACK_HEADERS.name) };
            if (columns.rackId < 0 || columns.floor < 0)
              throw new DomainError('invalid', `${fileName}: the first row must name the columns "Rack" and "Floor" (and optionally "Name")`, {
                issues: [{ path: 'content', message: 'No "Rack" and "Floor" header row' }],
              });
            continue;
          }
          const rackId = cells[columns.rackId] ?? '';
          const floor = cells[columns.floor] ?? '';
          const name = columns.name >= 0 ? cells[columns.name] : undefined;
          const problem = !rackId
            ? 'the rack id is empty'
            : !floor
              ? 'the floor is empty'
              : rackId.includes('/') || floor.includes('/')
                ? 'a rack id or floor cannot contain "/"'
                : rackId.length > 64 || floor.length > 64
                  ? 'a rack id or floor is at most 64 characters'
                  : (name?.length ?? 0) > 200
                    ? 'a rack name is at most 200 characters'
                    : null;
          if (problem)
            throw new DomainError('invalid', `${fileName}, line ${row.line}: ${problem}; nothing was imported`, {
              issues: [{ path: 'content', message: problem }],
            });
          racks.push({ rackId, floor, ...(name ? { name } : {}), line: row.line });
        }
      }
    } finally {
      fs.rmSync(file, { force: true });
    }
    if (racks.length === 0)
      throw new DomainError('invalid', `${fileName} holds no racks below its header row`, { issues: [{ path: 'content', message: 'No racks' }] });
    const counts = { created: 0, updated: 0, unchanged: 0 };
    this.deps.db.$client.transaction(() => {
      for (const r of racks) counts[this.#saveOne({ rackId: r.rackId, floor: r.floor, name: r.name, active: true }, actor).change]++;
      recordAudit(this.deps.db, this.deps.audit, actor, { action: 'rack.imported', entity: 'rack', entityId: fileName, after: counts });
    })();
    this.deps.changed();
    return counts;
  }
}

/**
 * Applies a rack_saved@1 feed entry: the rack is created or updated when the entry is newer than
 * this station's version (updatedAt, then station name). Audited as rack.synced.
 */
export function rackApplier(deps: { audit: AuditContext; changed: () => void }): FeedApplier {
  return (db, entry, ctx) => {
    const parsed = HUB_OP_PAYLOADS['rack_saved@1'].safeParse(entry.payload);
    if (!parsed.success)
      throw new Error(`Feed entry ${entry.seq} (${entry.op} from ${entry.station}) is not a rack: ${describeIssues(parsed.error)}`);
    const p = parsed.data;
    const sqlite = db.$client;
    const local = sqlite.prepare('SELECT * FROM racks WHERE rack_id = ? AND floor = ?').get(p.rackId, p.floor) as RackRow | undefined;
    if (
      local &&
      !newerVersion({ updatedAt: p.updatedAt, station: entry.station }, { updatedAt: local.updated_at, station: local.station || ctx.stationName })
    )
      return;
    sqlite.prepare(UPSERT_RACK).run(p.rackId, p.floor, p.name ?? null, p.active ? 1 : 0, p.updatedAt, p.by, entry.station);
    recordAudit(
      db,
      deps.audit,
      { userId: null, username: entry.user },
      {
        action: 'rack.synced',
        entity: 'rack',
        entityId: rackResourceOf(p),
        ...(local ? { before: { name: local.name, active: local.active === 1 } } : {}),
        after: { name: p.name ?? null, active: p.active },
        detail: `saved at ${entry.station} by ${entry.user}; site feed seq ${entry.seq}`,
      },
    );
    deps.changed();
  };
}
