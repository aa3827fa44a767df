import { randomBytes } from 'node:crypto';
import { UpstreamError, UpstreamHttp, type UpstreamClientDeps } from '../http';

export type Answer = Record<string, unknown>;

/** BioTrack says success as 1, "1" or true; anything else is a failure. */
export const succeeded = (a: Answer) => a.success === 1 || a.success === '1' || a.success === true;

/** BioTrack's own words for a failure: `error`, else `_detail` (refused company ids carry only that), else `meta.note`. */
export function bioTrackErrorText(a: Answer): string {
  const meta = a.meta as { note?: unknown } | undefined;
  const text = [a.error, a._detail, meta?.note].find((v): v is string => typeof v === 'string' && v.trim() !== '') ?? 'no reason given';
  const code = a.errorcode === undefined || a.errorcode === null || a.errorcode === '' ? '' : ` (code ${String(a.errorcode)})`;
  return `${text.trim()}${code}`;
}

/** BioTrack's error code of a refusal (a number or a numeric string), if it sent one. */
export function bioTrackErrorCode(error: unknown): number | null {
  const answer = error instanceof UpstreamError ? (error.answer as Answer | undefined) : undefined;
  const code = answer?.errorcode;
  return code === undefined || code === null || code === '' || Number.isNaN(Number(code)) ? null : Number(code);
}

/** "Your session has expired." comes with errorcode 63, as HTTP 200 or as an HTTP error. */
function sessionExpired(a: Answer): boolean {
  return /session.+expired/i.test(String(a.error ?? '')) || String(a.errorcode ?? '') === '63';
}

const isAnswer = (v: unknown): v is Answer => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Actions that only read: safe to send again after a lost answer. Everything else changes state. */
function readsOnly(action: string): boolean {
  return (
    action === 'login' ||
    action.startsWith('sync_') ||
    action === 'inventory_qa_check' ||
    action === 'inventory_qa_check_all' ||
    action === 'inventory_check'
  );
}

/**
 * BioTrack's JSON API (2014, "API 4.0"): one URL, every call a POST of {API, action, …} sent as
 * text/JSON. Logs in once and reuses the session; "session expired" means log in again and retry
 * once. Errors come as HTTP 200 with success 0, and as HTTP 400/500 with the same body; PHP
 * notices may stand before and after the JSON. Calls that change state are never sent twice by
 * this client: a lost answer surfaces as an ambiguous error for the caller to look up.
 */
export class BioTrackClient {
  readonly http: UpstreamHttp;
  #session: string | null = null;

  constructor(private readonly deps: UpstreamClientDeps & { url: string; training?: boolean }) {
    this.http = new UpstreamHttp({
      name: 'biotrack',
      baseUrl: deps.url,
      now: deps.now,
      log: deps.log,
      readTimeoutMs: deps.readTimeoutMs,
      sleep: deps.sleep,
      lenientJson: true,
      // A JSON answer with success 0 on an HTTP error status is BioTrack saying no, not being down.
      describeError: (answer) =>
        isAnswer(answer) && !succeeded(answer) ? { message: `BioTrack said: ${bioTrackErrorText(answer)}`, refused: true } : null,
    });
  }

  private async post(body: Answer): Promise<Answer> {
    const action = String(body.action);
    const payload = { API: '4.0', ...(this.deps.training ? { training: 1 } : {}), nonce: randomBytes(16).toString('hex'), ...body };
    let answer: unknown;
    try {
      answer = (
        await this.http.request({
          method: 'POST',
          url: this.deps.url,
          body: JSON.stringify(payload),
          headers: { 'content-type': 'text/JSON' },
          idempotent: readsOnly(action),
        })
      ).data;
    } catch (error) {
      // An HTTP 400/500 carrying BioTrack's own answer is handled like the same answer on a 200.
      if (error instanceof UpstreamError && error.kind === 'refused' && isAnswer(error.answer)) return error.answer;
      throw error;
    }
    if (!isAnswer(answer)) throw new UpstreamError('biotrack', 'malformed', `BioTrack answered ${action} with something that is not an object`);
    return answer;
  }

  private async login(): Promise<string> {
    const [license, username, password] = ['biotrack.license', 'biotrack.username', 'biotrack.password'].map((k) => this.deps.secrets.get(k));
    if (!license || !username || !password) throw new UpstreamError('biotrack', 'credentials', 'No BioTrack credentials: enter them in Admin → Sync');
    // BioTrack's license_number is the company's 9-digit UBI, not the facility licence.
    if (!/^\d{9}$/.test(license))
      throw new UpstreamError(
        'biotrack',
        'credentials',
        'The BioTrack company id (license_number) must be the 9-digit UBI: correct it in Admin → Sync',
      );
    const a = await this.post({ action: 'login', license_number: license, username, password });
    if (!succeeded(a) || typeof a.sessionid !== 'string' || a.sessionid === '') {
      throw new UpstreamError(
        'biotrack',
        'credentials',
        `BioTrack refused the login: ${succeeded(a) ? 'no session id in the answer' : bioTrackErrorText(a)}`,
        undefined,
        undefined,
        a,
      );
    }
    return (this.#session = a.sessionid);
  }

  /** One action with the current session; refusals become an UpstreamError of kind 'refused' with BioTrack's text and code. */
  async call(action: string, fields: Answer = {}): Promise<Answer> {
    const session = this.#session ?? (await this.login());
    let a = await this.post({ action, sessionid: session, ...fields });
    if (!succeeded(a) && sessionExpired(a)) {
      // The server refused without acting, so sending again is safe even for changes.
      this.#session = null;
      a = await this.post({ action, sessionid: await this.login(), ...fields });
    }
    if (!succeeded(a)) throw new UpstreamError('biotrack', 'refused', `BioTrack refused ${action}: ${bioTrackErrorText(a)}`, undefined, undefined, a);
    return a;
  }
}
