import type { Logger } from '../app/logger';
import { UpstreamError, UpstreamHttp } from './http';
import type { SecretStore } from './secrets';

/**
 * OData v4 reads from the ERP (two instances, each with its own Basic-auth user). Builds the
 * query options, follows @odata.nextLink exactly as given (it is opaque), falls back to $skip
 * paging when the server sends none, dedupes rows on their key (paging can repeat rows when data
 * changes between pages), and POSTs to …/$query when the URL would be too long.
 */
export const ERP_ORGS = ['DD', 'CBR'] as const;
export type ErpOrg = (typeof ERP_ORGS)[number];

export interface ODataQuery {
  filter?: string;
  select?: string[];
  orderby?: string;
  top?: number;
  /** Our own page size when the server does not page. */
  pageSize?: number;
}

const MAX_URL = 2000;
const MAX_PAGES = 1000;

/** A string literal for $filter: single quotes doubled, per OData ABNF. */
export function odataString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

export class ODataClient {
  readonly #http = new Map<ErpOrg, UpstreamHttp>();

  constructor(
    private readonly deps: { baseUrl: string; secrets: SecretStore; now: () => number; log: Logger; readTimeoutMs?: number },
  ) {
    for (const org of ERP_ORGS) {
      this.#http.set(org, new UpstreamHttp({ name: `erp-${org}`, baseUrl: deps.baseUrl, now: deps.now, log: deps.log, readTimeoutMs: deps.readTimeoutMs }));
    }
  }

  breaker(org: ErpOrg) {
    return this.#http.get(org)!.breaker;
  }

  private auth(org: ErpOrg): Record<string, string> {
    const user = this.deps.secrets.get(`erp.${org}.username`);
    const password = this.deps.secrets.get(`erp.${org}.password`);
    if (!user || !password) throw new UpstreamError(`erp-${org}`, 'http', `No ERP credentials for ${org}: enter them in Admin → Sync`);
    return { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
  }

  async query<T extends Record<string, unknown>>(org: ErpOrg, entitySet: string, q: ODataQuery, key: (row: T) => string): Promise<T[]> {
    const http = this.#http.get(org)!;
    const headers = this.auth(org);
    const params = new URLSearchParams();
    if (q.filter) params.set('$filter', q.filter);
    if (q.select) params.set('$select', q.select.join(','));
    if (q.orderby) params.set('$orderby', q.orderby);
    const pageSize = q.pageSize ?? 500;
    const seen = new Map<string, T>();
    let next: string | null = null; // the server's nextLink, followed exactly as given
    let skip = 0; // our own paging when the server sends no nextLink
    for (let page = 0; page < MAX_PAGES; page++) {
      let requested = Infinity;
      let body: { value?: unknown; '@odata.nextLink'?: unknown };
      if (next) {
        body = await http.getJson(next, undefined, headers);
      } else {
        const p = new URLSearchParams(params);
        requested = q.top === undefined ? pageSize : Math.min(pageSize, q.top - seen.size);
        p.set('$top', String(requested));
        if (skip) p.set('$skip', String(skip));
        const path = `reports/${org}/${entitySet}`;
        const long = `${this.deps.baseUrl}/${path}?${p.toString()}`.length > MAX_URL;
        body = long ? await http.postText(`${path}/$query`, p.toString(), headers) : await http.getJson(`${path}?${p.toString()}`, undefined, headers);
      }
      if (!body || !Array.isArray(body.value)) throw new UpstreamError(`erp-${org}`, 'malformed', `The ${org} ERP answered without a "value" list`);
      const rows = body.value as T[];
      for (const row of rows) seen.set(key(row), row);
      if (q.top !== undefined && seen.size >= q.top) break;
      const link = body['@odata.nextLink'];
      if (typeof link === 'string') {
        next = link;
        continue;
      }
      // No link: after server paging that was the last page; with our paging, a short page is.
      if (next !== null || rows.length < requested || rows.length === 0) break;
      skip += rows.length;
    }
    return [...seen.values()];
  }
}
