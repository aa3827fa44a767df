import type { InventoryItem, InventoryReport, LabResult } from '../../../shared/contract/biotrack';
import type { UpstreamStatus } from '../../../shared/contract/sync';
import { DomainError } from '../../../shared/envelope';
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
    // Cached per location: another facility's copy is not this one's stock.
    const key = () => `biotrack:inventory:${deps.location()}`;
    this.#read = deps.client
      ? new CachedUpstreamRead({ cache: deps.cache, key, upstream: 'biotrack', breaker: deps.client.http.breaker, now: deps.now })
      : null;
  }

  async inventory(refresh = false): Promise<InventoryReport> {
    const client = this.deps.client;
    if (!client || !this.#read) throw new DomainError('unavailable', 'BioTrack is not configured for this station');
    const location = this.deps.location();
    if (!/^\d{6}$/.test(location))
      throw new DomainError('unavailable', "Set this station's BioTrack location (the facility's 6-digit licence) in Admin → Sync");
    const { value, ...copy } = await this.#read.read(() => fetchInventory(client, location), refresh);
    return { location, items: value, ...copy };
  }

  configured(): boolean {
    return this.deps.client !== null;
  }

  status(): UpstreamStatus[] {
    return this.#read ? [this.#read.status()] : [];
  }
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
