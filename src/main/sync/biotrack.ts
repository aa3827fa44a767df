import type { InventoryItem, InventoryReport } from '../../shared/contract/erp';
import type { UpstreamStatus } from '../../shared/contract/sync';
import { DomainError } from '../../shared/envelope';
import type { Logger } from '../app/logger';
import type { ReadCache } from './cache';
import { readUpstreamStatus, UpstreamError, UpstreamHttp } from './http';
import type { SecretStore } from './secrets';

type Answer = Record<string, unknown> & { success?: unknown; error?: unknown };

/** BioTrack says success as 1, "1" or true; anything else is a failure. */
export const succeeded = (a: Answer) => a.success === 1 || a.success === '1' || a.success === true;
const SESSION_EXPIRED = /session.+expired/i;
const RESULT: Record<string, InventoryItem['labResult']> = { '-1': 'failed', '0': 'pending', '1': 'passed', '2': 'rejected' };

/**
 * BioTrack's JSON API: one URL, POST {action, …} as text/JSON, API 4.0. Logs in once and reuses
 * the session; an answer saying the session expired means log in again and retry once. Errors
 * arrive as HTTP 200 with success 0; stray text before the JSON is skipped by UpstreamHttp.
 */
export class BioTrackClient {
  readonly http: UpstreamHttp;
  #session: string | null = null;

  constructor(private readonly deps: { url: string; secrets: SecretStore; now: () => number; log: Logger; readTimeoutMs?: number; training?: boolean }) {
    this.http = new UpstreamHttp({ name: 'biotrack', baseUrl: deps.url, now: deps.now, log: deps.log, readTimeoutMs: deps.readTimeoutMs });
  }

  private async post(body: Record<string, unknown>): Promise<Answer> {
    const answer = await this.http.postText<Answer>(this.deps.url, JSON.stringify({ API: '4.0', ...(this.deps.training ? { training: 1 } : {}), ...body }), { 'content-type': 'text/JSON' });
    if (typeof answer !== 'object' || answer === null) throw new UpstreamError('biotrack', 'malformed', 'BioTrack answered something that is not an object');
    return answer;
  }

  private async login(): Promise<string> {
    const [license, username, password] = ['biotrack.license', 'biotrack.username', 'biotrack.password'].map((k) => this.deps.secrets.get(k));
    if (!license || !username || !password) throw new UpstreamError('biotrack', 'http', 'No BioTrack credentials: enter them in Admin → Sync');
    const a = await this.post({ action: 'login', license_number: license, username, password });
    if (!succeeded(a) || typeof a.sessionid !== 'string') throw new UpstreamError('biotrack', 'http', `BioTrack refused the login: ${String(a.error ?? 'no session id')}`);
    return (this.#session = a.sessionid);
  }

  async call(action: string, fields: Record<string, unknown> = {}): Promise<Answer> {
    const session = this.#session ?? (await this.login());
    let a = await this.post({ action, sessionid: session, ...fields });
    if (!succeeded(a) && SESSION_EXPIRED.test(String(a.error ?? ''))) {
      this.#session = null;
      a = await this.post({ action, sessionid: await this.login(), ...fields });
    }
    if (!succeeded(a)) throw new UpstreamError('biotrack', 'http', `BioTrack refused ${action}: ${String(a.error ?? 'no reason given')}${a.errorcode ? ` (code ${String(a.errorcode)})` : ''}`);
    return a;
  }
}

export interface ManifestStop {
  stopNumber: number;
  licenseNumber: string;
  barcodes: string[];
}

/**
 * Manifest calls. BioTrack manifests are not idempotent: the trip job that uses these must keep
 * each step's result (the manifest id) before the next, and look a manifest up rather than
 * create it again when retrying.
 */
export async function createManifest(client: BioTrackClient, m: { employeeId: string; vehicleId: string; location: string; stops: ManifestStop[] }): Promise<string> {
  const a = await client.call('inventory_manifest', {
    employee_id: m.employeeId,
    vehicle_id: m.vehicleId,
    location: m.location,
    stop_overview: m.stops.map((s) => ({ stop_number: s.stopNumber, vendor_license: s.licenseNumber, barcodeid: s.barcodes })),
  });
  if (typeof a.manifest_id !== 'string' && typeof a.manifest_id !== 'number') throw new UpstreamError('biotrack', 'malformed', 'BioTrack created a manifest but sent no id');
  return String(a.manifest_id);
}

export async function lookupManifest(client: BioTrackClient, manifestId: string): Promise<{ manifestId: string; voided: boolean }> {
  const a = await client.call('inventory_manifest_lookup', { manifest_id: manifestId });
  return { manifestId: String(a.manifest_id), voided: a.voided === 1 || a.voided === '1' };
}

export async function voidManifest(client: BioTrackClient, manifestId: string): Promise<void> {
  await client.call('inventory_manifest_void', { manifest_id: manifestId });
}

/** Inventory with its latest lab results (potency), through the station cache. */
export class BioTrackService {
  constructor(private readonly deps: { client: BioTrackClient | null; cache: ReadCache; now: () => number }) {}

  async inventory(refresh = false): Promise<InventoryReport> {
    const client = this.deps.client;
    if (!client) throw new DomainError('unavailable', 'BioTrack is not configured for this station');
    const read = await this.deps.cache.read(
      'biotrack:inventory',
      'biotrack',
      async () => {
        const [rooms, inv] = [await client.call('sync_inventory_room', { download: 1 }), await client.call('sync_inventory', { download: 1 })];
        const roomName = new Map(((rooms.inventory_room as { roomid: string; name: string }[]) ?? []).map((r) => [String(r.roomid), r.name]));
        const items = (inv.inventory as Record<string, unknown>[]) ?? [];
        const labs = items.length ? await client.call('inventory_qa_check_all', { barcodeid: items.map((i) => String(i.id)) }) : { data: [] };
        const bySample = new Map(((labs.data as Record<string, unknown>[]) ?? []).map((l) => [String(l.sample_id), l]));
        return items.map((i): InventoryItem => {
          const lab = bySample.get(String(i.sample_id));
          const potency = (lab?.test as Record<string, unknown>[] | undefined)?.find((t) => Number(t.type) === 2);
          const num = (v: unknown) => (v === undefined || v === null || v === '' || Number.isNaN(Number(v)) ? null : Number(v));
          return {
            barcode: String(i.id),
            product: String(i.productname ?? ''),
            quantity: num(i.remaining_quantity),
            room: roomName.get(String(i.currentroom)) ?? null,
            labResult: lab ? (RESULT[String(lab.result)] ?? null) : null,
            total: num(potency?.Total),
            thca: num(potency?.THCA),
            thc: num(potency?.THC),
            cbda: num(potency?.CBDA),
            cbd: num(potency?.CBD),
          };
        });
      },
      { refresh },
    );
    return { items: read.value, fetchedAt: read.fetchedAt, fromCache: read.fromCache, ageSeconds: Math.round((this.deps.now() - read.fetchedAt) / 1000), warning: read.warning };
  }

  configured(): boolean {
    return this.deps.client !== null;
  }

  status(): UpstreamStatus[] {
    const client = this.deps.client;
    if (!client) return [];
    return [readUpstreamStatus('biotrack', client.http.breaker, this.deps.now(), this.deps.cache.fetchedAt('biotrack:inventory'))];
  }
}
