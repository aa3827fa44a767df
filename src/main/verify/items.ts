import { z } from 'zod';
import { ERP_ORGS, type ErpOrg } from '../../shared/contract/erp';
import type { ItemView } from '../../shared/contract/verify';
import { DomainError } from '../../shared/envelope';
import type { Db } from '../db/open';
import type { Logger } from '../platform/logger';
import type { ODataClient } from '../upstreams/erp/odata';
import type { ReadCache } from '../upstreams/read-cache';

/**
 * The item catalogue from the ERP (entity set InventoryItems, both organisations) through the read
 * cache, stored in `items`; the migration's FTS5 table items_fts follows it by triggers. Search is a
 * prefix match on every word typed; a scan is looked up by barcode, then by item code.
 */

const itemRow = z.object({
  ItemCode: z.string().trim().min(1).max(64),
  ItemName: z.string().max(500).nullable().optional(),
  Descn: z.string().max(2000).nullable().optional(),
  BarcodeNo: z.string().max(64).nullable().optional(),
});
type ItemRow = z.infer<typeof itemRow>;
const SELECT = ['ItemCode', 'ItemName', 'Descn', 'BarcodeNo'];
/** The catalogue changes seldom: a copy younger than this is not read again. */
const ITEMS_MAX_AGE_MS = 60 * 60_000;

interface StoredItem {
  item_code: string;
  name: string;
  description: string;
  barcode: string | null;
  org: string;
}
const view = (r: StoredItem): ItemView => ({ itemCode: r.item_code, name: r.name, description: r.description, barcode: r.barcode, org: r.org });

/** FTS5 query of the words typed, each a quoted prefix ("blue"* "dre"*): no FTS syntax gets through. */
export function ftsPrefixQuery(text: string): string | null {
  const words = text
    .normalize('NFKC')
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean)
    .slice(0, 10);
  return words.length ? words.map((w) => `"${w.replace(/"/g, '""')}"*`).join(' ') : null;
}

export class ItemCatalogue {
  constructor(private readonly deps: { db: Db; odata: ODataClient | null; cache: ReadCache; now: () => number; log: Logger }) {}

  /** Reads both organisations' items (cached; an ERP that is down serves the last copy) into `items`. */
  async refresh(force = false): Promise<{ items: number; warning: string | null }> {
    const odata = this.deps.odata;
    if (!odata) throw new DomainError('unavailable', 'No ERP is configured for this station: items cannot be read');
    const warnings: string[] = [];
    const byOrg = new Map<ErpOrg, ItemRow[]>();
    for (const org of ERP_ORGS) {
      try {
        const read = await this.deps.cache.read(
          `erp:${org}:items`,
          `erp-${org}`,
          async () => {
            const rows = await odata.query<Record<string, unknown>>(org, 'InventoryItems', { select: SELECT, orderby: 'ItemCode' }, ['ItemCode']);
            return rows.flatMap((r) => {
              const parsed = itemRow.safeParse(r);
              return parsed.success ? [parsed.data] : [];
            });
          },
          { refresh: force, maxAgeMs: ITEMS_MAX_AGE_MS },
        );
        if (read.warning) warnings.push(`${org}: ${read.warning}`);
        byOrg.set(org, read.value);
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        warnings.push(`${org}: ${error.message}`);
      }
    }
    if (byOrg.size === 0) throw new DomainError('unavailable', `The ERP's items cannot be read: ${warnings.join('; ')}`);
    const sqlite = this.deps.db.$client;
    const upsert = sqlite.prepare(
      `INSERT INTO items (item_code, name, description, barcode, org, fetched_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (item_code) DO UPDATE SET name = excluded.name, description = excluded.description, barcode = excluded.barcode,
         org = excluded.org, fetched_at = excluded.fetched_at
       WHERE items.name IS NOT excluded.name OR items.description IS NOT excluded.description OR items.barcode IS NOT excluded.barcode OR items.org IS NOT excluded.org`,
    );
    const now = this.deps.now();
    let count = 0;
    sqlite.transaction(() => {
      for (const [org, rows] of byOrg) {
        for (const r of rows) {
          upsert.run(r.ItemCode, r.ItemName?.trim() || r.ItemCode, r.Descn?.trim() ?? '', r.BarcodeNo?.trim() || null, org, now);
          count++;
        }
        // Items the organisation no longer lists go (the rest of the catalogue stays).
        const codes = new Set(rows.map((r) => r.ItemCode));
        const gone = (sqlite.prepare('SELECT item_code FROM items WHERE org = ?').pluck().all(org) as string[]).filter((c) => !codes.has(c));
        const del = sqlite.prepare('DELETE FROM items WHERE item_code = ?');
        for (const c of gone) del.run(c);
      }
    })();
    return { items: count, warning: warnings.length ? warnings.join('; ') : null };
  }

  search(text: string, limit: number): ItemView[] {
    const q = ftsPrefixQuery(text);
    if (!q) return [];
    const rows = this.deps.db.$client
      .prepare(
        `SELECT i.item_code, i.name, i.description, i.barcode, i.org FROM items_fts f JOIN items i ON i.rowid = f.rowid
         WHERE items_fts MATCH ? ORDER BY bm25(items_fts, 10.0, 5.0, 1.0), i.item_code LIMIT ?`,
      )
      .all(q, limit) as StoredItem[];
    return rows.map(view);
  }

  byCode(code: string): ItemView | null {
    const sqlite = this.deps.db.$client;
    const row = (sqlite.prepare('SELECT item_code, name, description, barcode, org FROM items WHERE barcode = ? LIMIT 1').get(code) ??
      sqlite.prepare('SELECT item_code, name, description, barcode, org FROM items WHERE item_code = ?').get(code)) as StoredItem | undefined;
    return row ? view(row) : null;
  }

  name(itemCode: string): string | null {
    return (this.deps.db.$client.prepare('SELECT name FROM items WHERE item_code = ?').pluck().get(itemCode) as string | undefined) ?? null;
  }
}
