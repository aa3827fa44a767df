import { ERP_ORGS, type ErpOrg } from '../../../shared/contract/erp';
import { followLink, UpstreamError, UpstreamHttp, type UpstreamResponse, type UpstreamClientDeps } from '../http';

export { ERP_ORGS, type ErpOrg };

/**
 * OData v4 reads from the ERP (two instances, each with its own Basic-auth user), written to what
 * real OData v4 servers do rather than to what our simulator happens to accept:
 * - query options are percent-encoded per RFC 3986 (a space is %20; `+` would be a syntax error);
 * - the page size is asked with `Prefer: odata.maxpagesize`, and server paging is followed
 *   through `@odata.nextLink`, resolved against the URL that sent it and kept on our origin;
 * - `$top` is a total across pages, sent only when the caller wants a total;
 * - client `$skip` paging is used only when a server neither pages nor honours the preference;
 * - URLs stay under ~8 KB: long `eq … or eq …` lists are split into several requests and merged
 *   (`POST …/$query` is an OData 4.01 feature many servers lack);
 * - rows are deduped on their key (paging can repeat rows when data changes between pages).
 */
export interface ODataQuery {
  filter?: string;
  select?: string[];
  orderby?: string;
  /** At most this many rows in all. */
  top?: number;
  /** Rows per page asked of the server (and our own page size with client paging). */
  pageSize?: number;
  /** Rows whose `field` is one of `values`: sent as `(field eq 'a' or field eq 'b' …)`, split to keep URLs short. */
  anyOf?: { field: string; values: string[] };
  /** Told after every page read, with the rows read so far by this query (a heartbeat for long reads). */
  onPage?: (rowsSoFar: number) => void;
}

/**
 * Longest URL sent: real servers answer 414 or 431 somewhere past 8 KB, and the nextLinks they send
 * back are longer than our request ($skiptoken added; a WHATWG URL parser writes ' as %27).
 */
export const MAX_URL_LENGTH = 7_000;
/** Length of a value once percent-encoded, counting ' as %27 as a nextLink will. */
const encodedLength = (s: string) => encodeURIComponent(s).length + 2 * (s.split("'").length - 1);
const MAX_PAGES = 10_000;

/** A string literal for $filter: single quotes doubled, per OData ABNF. */
export function odataString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/**
 * A query string per OData's URL grammar: RFC 3986 percent-encoding of every value, so a space is
 * %20 and a literal `+` is %2B (URLSearchParams would write `+` for a space, which OData reads as
 * a plus sign and answers 400).
 */
export function odataQueryString(options: Record<string, string | number | undefined>): string {
  return Object.entries(options)
    .filter((e): e is [string, string | number] => e[1] !== undefined)
    .map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`)
    .join('&');
}

/** Whether the server said it applied our page size (it then pages with nextLink). */
function preferenceApplied(headers: UpstreamResponse<unknown>['headers']): boolean {
  const h = headers['preference-applied'];
  return (Array.isArray(h) ? h.join(',') : (h ?? '')).toLowerCase().includes('odata.maxpagesize');
}

export class ODataClient {
  readonly #http = new Map<ErpOrg, UpstreamHttp>();

  constructor(
    private readonly deps: UpstreamClientDeps & {
      baseUrl: string;
      /** Read at every call: Admin → Sync's "cooldown after a 503", in ms. */
      cooldownAfter503Ms?: () => number;
      /** The zone an instance's "cooling down until 09:12" is written in. */
      timeZone?: (org: ErpOrg) => string | undefined;
    },
  ) {
    for (const org of ERP_ORGS) {
      this.#http.set(
        org,
        new UpstreamHttp({
          name: `erp-${org}`,
          baseUrl: deps.baseUrl,
          now: deps.now,
          log: deps.log,
          readTimeoutMs: deps.readTimeoutMs,
          sleep: deps.sleep,
          describeError: odataErrorText,
          ...(deps.cooldownAfter503Ms ? { cooldownAfter503Ms: deps.cooldownAfter503Ms } : {}),
          timeZone: () => deps.timeZone?.(org),
          // One retry on 5xx/429; none after a timeout (a long read would only take as long again).
          retries: 1,
          retryTimeouts: false,
        }),
      );
    }
  }

  /** The instance's breaker as it stands now (a cooldown measured by the cooldown set now). */
  breaker(org: ErpOrg) {
    return this.#http.get(org)!.breakerNow();
  }

  private auth(org: ErpOrg): Record<string, string> {
    const user = this.deps.secrets.get(`erp.${org}.username`);
    const password = this.deps.secrets.get(`erp.${org}.password`);
    if (!user || !password) throw new UpstreamError(`erp-${org}`, 'credentials', `No ERP credentials for ${org}: enter them in Admin → Sync`);
    return { authorization: `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`, accept: 'application/json' };
  }

  /** Every row the query selects, across pages and split requests, deduped on `key`. */
  async query<T extends Record<string, unknown>>(org: ErpOrg, entitySet: string, q: ODataQuery, key: string[]): Promise<T[]> {
    const seen = new Map<string, T>();
    for (const filter of this.filters(org, entitySet, q)) {
      await this.readAll<T>(org, entitySet, { ...q, filter }, key, seen);
      if (q.top !== undefined && seen.size >= q.top) break;
    }
    return [...seen.values()];
  }

  /** The $filter of each request: one, or one per slice of a long `anyOf` list. */
  private filters(org: ErpOrg, entitySet: string, q: ODataQuery): (string | undefined)[] {
    if (!q.anyOf) return [q.filter];
    if (q.anyOf.values.length === 0) return [];
    const { field, values } = q.anyOf;
    const wrap = (clauses: string[]) => {
      const list = `(${clauses.join(' or ')})`;
      return q.filter ? `(${q.filter}) and ${list}` : list;
    };
    // Room for the base URL, and for $top/$skip/$orderby should the server need client paging.
    const empty = this.#http.get(org)!.resolve(this.url(org, entitySet, { ...q, filter: wrap([]) }, 0));
    const fixed = empty.length + 2 * (empty.split("'").length - 1) + 120;
    const out: string[] = [];
    let clauses: string[] = [];
    let length = fixed;
    for (const value of [...new Set(values)]) {
      const clause = `${field} eq ${odataString(value)}`;
      const cost = encodedLength(clause + ' or ');
      if (clauses.length > 0 && length + cost > MAX_URL_LENGTH) {
        out.push(wrap(clauses));
        clauses = [];
        length = fixed;
      }
      if (fixed + cost > MAX_URL_LENGTH) throw new UpstreamError(`erp-${org}`, 'refused', `A value for ${field} is too long to ask the ERP about`);
      clauses.push(clause);
      length += cost;
    }
    if (clauses.length) out.push(wrap(clauses));
    return out;
  }

  private url(org: ErpOrg, entitySet: string, q: ODataQuery, clientSkip: number | null, orderby = q.orderby): string {
    const pageSize = q.pageSize ?? 500;
    const options: Record<string, string | number | undefined> = {
      $filter: q.filter,
      $select: q.select?.join(','),
      $orderby: orderby,
    };
    if (clientSkip === null) {
      options.$top = q.top;
    } else {
      options.$top = q.top === undefined ? pageSize : Math.min(pageSize, q.top - clientSkip);
      options.$skip = clientSkip || undefined;
    }
    const query = odataQueryString(options);
    return `reports/${encodeURIComponent(org)}/${encodeURIComponent(entitySet)}${query ? `?${query}` : ''}`;
  }

  private async readAll<T extends Record<string, unknown>>(
    org: ErpOrg,
    entitySet: string,
    q: ODataQuery,
    key: string[],
    seen: Map<string, T>,
  ): Promise<void> {
    const http = this.#http.get(org)!;
    const pageSize = q.pageSize ?? 500;
    const headers = { ...this.auth(org), prefer: `odata.maxpagesize=${pageSize}` };
    const keyOf = (row: T) => key.map((k) => String(row[k])).join('\u0000');
    const before = seen.size;
    const add = (rows: T[]) => {
      for (const row of rows) {
        if (q.top !== undefined && seen.size - before >= q.top) return;
        seen.set(keyOf(row), row);
      }
    };
    let url = this.url(org, entitySet, q, null);
    let clientSkip: number | null = null; // null: the server pages (or sends everything)
    // A stable order makes $skip pages line up: the caller's order, then the key.
    const clientOrder = [q.orderby, ...key].filter(Boolean).join(',');
    for (let page = 0; page < MAX_PAGES; page++) {
      const res = await http.request<{ value?: unknown; '@odata.nextLink'?: unknown }>({ method: 'GET', url, headers });
      const body = res.data;
      if (!body || typeof body !== 'object' || !Array.isArray(body.value)) {
        throw new UpstreamError(`erp-${org}`, 'malformed', `The ${org} ERP answered without a "value" list`);
      }
      const rows = body.value as T[];
      add(rows);
      try {
        q.onPage?.(seen.size);
      } catch (error) {
        // A progress listener that fails must not fail the read.
        this.deps.log.warn({ err: error, org, entitySet }, 'ERP page listener failed');
      }
      if (q.top !== undefined && seen.size - before >= q.top) return;
      const link = body['@odata.nextLink'];
      if (typeof link === 'string' && link !== '') {
        if (clientSkip !== null) throw new UpstreamError(`erp-${org}`, 'malformed', `The ${org} ERP started paging in the middle of a read`);
        url = followLink(`erp-${org}`, link, res.url, http.resolve(''));
        continue;
      }
      if (clientSkip === null) {
        // No link: the whole result came back — unless the server silently cut it at our page
        // size without saying it applied the preference. Then page ourselves from the start.
        if (page > 0 || rows.length !== pageSize || preferenceApplied(res.headers)) return;
        this.deps.log.info({ org, entitySet }, 'ERP neither pages nor honours odata.maxpagesize: paging with $skip');
        clientSkip = 0;
      } else {
        const requested = q.top === undefined ? pageSize : Math.min(pageSize, q.top - clientSkip);
        if (rows.length === 0 || rows.length < requested) return;
        clientSkip += rows.length;
      }
      url = this.url(org, entitySet, q, clientSkip, clientOrder);
    }
    throw new UpstreamError(`erp-${org}`, 'malformed', `The ${org} ERP kept sending pages (more than ${MAX_PAGES})`);
  }
}

/** OData error answers: `{"error": {"code", "message"}}`; the message says what the server disliked. */
function odataErrorText(answer: unknown): { message: string; refused: boolean } | null {
  const error = (answer as { error?: { message?: unknown } } | null)?.error;
  const message = typeof error?.message === 'string' ? error.message : (error?.message as { value?: unknown } | undefined)?.value;
  return typeof message === 'string' && message ? { message: message.slice(0, 300), refused: false } : null;
}
