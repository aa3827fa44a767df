import {
  inReportOrder,
  type InventoryItem,
  type InventoryReport,
  type InventoryReportPage,
  type InventoryTotal,
  type LabFilter,
  type LabLookup,
  type LabResult,
} from '../../../shared/contract/biotrack';
import type { UpstreamStatus } from '../../../shared/contract/sync';
import { DomainError } from '../../../shared/envelope';
import { UpstreamError } from '../http';
import type { ReadCache } from '../read-cache';
import { CachedUpstreamRead } from '../status';
import type { Answer, BioTrackClient } from './client';

const RESULT: Record<string, LabResult> = { '-1': 'failed', '0': 'pending', '1': 'passed', '2': 'rejected' };
/** Ids per inventory_qa_check_all call: keeps each request and answer a sensible size. */
const LAB_BATCH = 100;

/** BioTrack sends numbers as numbers or strings ("18.9", "300.00"). */
function num(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v !== 'string' || v.trim() === '') return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}
const text = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v : typeof v === 'number' ? String(v) : null);
/** `deleted` is 0/1 or "0"/"1". */
const deleted = (v: unknown) => v === 1 || v === '1' || v === true;
const rows = (v: unknown): Answer[] =>
  Array.isArray(v) ? v.filter((r): r is Answer => typeof r === 'object' && r !== null && !Array.isArray(r)) : [];

/**
 * This facility's inventory with rooms and its latest lab results. A BioTrack company can have
 * several facilities: only rows of the station's location (6-digit licence) that are not deleted
 * are shown. Lab results are matched to items by `barcode_id` — the inventory id that was asked
 * about; the lab sample has an id of its own. Items without results show "no lab data".
 */
export class BioTrackInventory {
  readonly #read: CachedUpstreamRead<InventoryItem[]> | null;

  constructor(private readonly deps: { client: BioTrackClient | null; cache: ReadCache; now: () => number; location: () => string }) {
    this.#read = deps.client
      ? new CachedUpstreamRead({
          cache: deps.cache,
          key: () => this.cacheKey(),
          upstream: 'biotrack',
          breaker: deps.client.http.breaker,
          now: deps.now,
        })
      : null;
  }

  /** Cached per location: another facility's copy is not this one's stock. */
  cacheKey(): string {
    return `biotrack:inventory:${this.deps.location()}`;
  }

  private ready(): { client: BioTrackClient; read: CachedUpstreamRead<InventoryItem[]>; location: string } {
    const client = this.deps.client;
    if (!client || !this.#read) throw new DomainError('unavailable', 'BioTrack is not configured for this station');
    const location = this.deps.location();
    if (!/^\d{6}$/.test(location))
      throw new DomainError('unavailable', "Set this station's BioTrack location (the facility's 6-digit licence) in Admin → Sync");
    return { client, read: this.#read, location };
  }

  async inventory(refresh = false): Promise<InventoryReport> {
    const { client, read, location } = this.ready();
    const { value, ...copy } = await read.read(() => fetchInventory(client, location), refresh);
    return { location, items: value, ...copy };
  }

  /** Reports → Inventory: one page and the totals, computed from the cached copy (fetched first only when it is old or missing). */
  async report(q: {
    room?: string;
    search?: string;
    lab?: LabFilter;
    offset?: number;
    limit?: number;
    refresh?: boolean;
  }): Promise<InventoryReportPage> {
    const { items, ...copy } = await this.inventory(q.refresh ?? false);
    return { ...copy, ...inventoryReport(items, q) };
  }

  /** One barcode's latest lab result from BioTrack now (fetchLab); when BioTrack cannot be reached, from the cached copy, with its age. */
  async labLookup(barcode: string): Promise<LabLookup> {
    const { client } = this.ready();
    const cached = this.deps.cache.peek<InventoryItem[]>(this.cacheKey());
    const item = cached?.value.find((i) => i.barcode === barcode) ?? null;
    try {
      return { barcode, item, ...(await fetchLab(client, barcode)), fromCache: false, fetchedAt: null, warning: null };
    } catch (error) {
      if (!(error instanceof UpstreamError)) throw error;
      if (!cached) throw new DomainError('unavailable', `${error.message}, and nothing is saved on this station yet`);
      const lab = item && item.labResult !== null ? labOf(null, item) : null;
      return { barcode, item, lab, noDataReason: null, fromCache: true, fetchedAt: cached.fetchedAt, warning: error.message };
    }
  }

  configured(): boolean {
    return this.deps.client !== null;
  }

  status(): UpstreamStatus[] {
    return this.#read ? [this.#read.status()] : [];
  }
}

/**
 * The latest lab result of one inventory barcode: inventory_qa_check_all finds the item's lab
 * sample (`false`: none), inventory_qa_check reads that sample's result, and BioTrack's "no
 * samples found" / "not yet filed" refusals mean no lab data, not a failure.
 */
export async function fetchLab(client: BioTrackClient, barcode: string): Promise<Pick<LabLookup, 'lab' | 'noDataReason'>> {
  const all = await client.call('inventory_qa_check_all', { barcodeid: [barcode] });
  const entry = rows(all.data).find((e) => text(e.barcode_id) === barcode);
  if (!entry) return { lab: null, noDataReason: 'BioTrack has no lab results for this item.' };
  const sampleId = text(entry.sample_id);
  if (!sampleId) return { lab: labOf(entry), noDataReason: null };
  try {
    const one = await client.call('inventory_qa_check', { sample_id: sampleId });
    return { lab: labOf(rows([one.data])[0] ?? entry), noDataReason: null };
  } catch (error) {
    const reason = noLabData(error);
    if (reason === null) throw error;
    return { lab: null, noDataReason: reason };
  }
}

/** BioTrack's refusals that mean "this sample has no (filed) result": its words, else null. */
function noLabData(error: unknown): string | null {
  if (!(error instanceof UpstreamError) || error.kind !== 'refused') return null;
  const answer = error.answer as Answer | undefined;
  const words = typeof answer?.error === 'string' ? answer.error.trim() : '';
  return /no samples found|not yet been filed/i.test(words) ? words : null;
}

/** The lab columns of one qa entry (or of a cached item). */
function labOf(entry: Answer | null, item?: InventoryItem): LabLookup['lab'] {
  if (item)
    return { labResult: item.labResult, sampleId: item.sampleId, total: item.total, thca: item.thca, thc: item.thc, cbda: item.cbda, cbd: item.cbd };
  const potency = rows(entry?.test).find((t) => Number(t.type) === 2);
  return {
    labResult: RESULT[String(entry?.result)] ?? null,
    sampleId: text(entry?.sample_id),
    total: num(potency?.Total),
    thca: num(potency?.THCA),
    thc: num(potency?.THC),
    cbda: num(potency?.CBDA),
    cbd: num(potency?.CBD),
  };
}

const sum = (items: InventoryItem[]): InventoryTotal => {
  let quantity = 0;
  for (const i of items) quantity += i.quantity ?? 0;
  return { items: items.length, quantity: Math.round(quantity * 1000) / 1000 };
};

/**
 * The report over the whole copy: totals of all items, with lab data and without; the items the
 * filters match (room id, product/strain/barcode text, lab), by room then product; one page of them.
 */
export function inventoryReport(
  items: InventoryItem[],
  q: { room?: string; search?: string; lab?: LabFilter; offset?: number; limit?: number },
): Pick<InventoryReportPage, 'totals' | 'matching' | 'rows' | 'offset' | 'rooms'> {
  const withLab = items.filter((i) => i.labResult !== null);
  const withoutLab = items.filter((i) => i.labResult === null);
  const rooms = new Map<string, string>();
  for (const i of items) if (i.roomId != null && !rooms.has(i.roomId)) rooms.set(i.roomId, i.room ?? `Room ${i.roomId}`);
  const words = (q.search ?? '').trim().toLowerCase();
  const source = q.lab === 'with' ? withLab : q.lab === 'without' ? withoutLab : items;
  const matching = source.filter(
    (i) =>
      (!q.room || (i.roomId ?? '') === q.room) &&
      (!words || i.barcode.includes(words) || i.product.toLowerCase().includes(words) || (i.strain ?? '').toLowerCase().includes(words)),
  );
  matching.sort(inReportOrder);
  const offset = q.offset ?? 0;
  return {
    totals: { all: sum(items), withLab: sum(withLab), withoutLab: sum(withoutLab) },
    matching: sum(matching),
    rows: matching.slice(offset, offset + (q.limit ?? 100)),
    offset,
    rooms: [...rooms].map(([id, name]) => ({ id, name })).sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true })),
  };
}

export async function fetchInventory(client: BioTrackClient, location: string): Promise<InventoryItem[]> {
  const here = (r: Answer) => String(r.location ?? '') === location && !deleted(r.deleted);
  const rooms = await client.call('sync_inventory_room', { download: 1 });
  // Room ids are per facility: only this one's rooms name this one's items.
  const roomName = new Map(
    rows(rooms.inventory_room)
      .filter((r) => r.location === undefined || here(r))
      .map((r) => [String(r.roomid), text(r.name)]),
  );
  const inventory = rows((await client.call('sync_inventory', { download: 1 })).inventory).filter(here);
  const ids = [...new Set(inventory.map((i) => text(i.id)).filter((id): id is string => id !== null))];

  const labs = new Map<string, Answer>();
  for (let i = 0; i < ids.length; i += LAB_BATCH) {
    const asked = ids.slice(i, i + LAB_BATCH);
    const answer = await client.call('inventory_qa_check_all', { barcodeid: asked });
    const wanted = new Set(asked);
    // One entry per asked id, `false` where there are no results.
    for (const entry of rows(answer.data)) {
      const id = text(entry.barcode_id);
      if (id && wanted.has(id)) labs.set(id, entry);
    }
  }

  return inventory.flatMap((i): InventoryItem[] => {
    const barcode = text(i.id);
    if (!barcode) return [];
    const lab = labs.get(barcode);
    const potency = rows(lab?.test).find((t) => Number(t.type) === 2);
    const room = text(i.currentroom);
    return [
      {
        barcode,
        product: text(i.productname) ?? text(i.strain) ?? '',
        strain: text(i.strain),
        quantity: num(i.remaining_quantity),
        roomId: room,
        room: room === null ? null : (roomName.get(room) ?? `Room ${room}`),
        labResult: lab ? (RESULT[String(lab.result)] ?? null) : null,
        sampleId: lab ? text(lab.sample_id) : null,
        total: num(potency?.Total),
        thca: num(potency?.THCA),
        thc: num(potency?.THC),
        cbda: num(potency?.CBDA),
        cbd: num(potency?.CBD),
      },
    ];
  });
}
