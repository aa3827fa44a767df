/**
 * The browser host listens on 127.0.0.1 only, but a browser reaches it under any name that
 * resolves there: DNS rebinding points `evil.example` at 127.0.0.1 after the page has loaded, and
 * the page's requests then count as same-origin for `evil.example`. Only the names the host
 * itself hands out may be used, so such requests are refused by their Host header.
 */

/** `host:port` as browsers send it (no port for 80); the host binds 127.0.0.1, so no [::1]. */
export function loopbackAuthorities(port: number): string[] {
  const suffix = port === 80 ? '' : `:${port}`;
  return [`127.0.0.1${suffix}`, `localhost${suffix}`];
}

/** The origins the host's own page has: `http://` and one of its authorities. */
export function loopbackOrigins(port: number): string[] {
  return loopbackAuthorities(port).map((a) => `http://${a}`);
}

/** A request's Host header names the host itself (host names are case-insensitive); a missing one does not. */
export function isAllowedHost(host: string | undefined, allowed: readonly string[]): boolean {
  return typeof host === 'string' && allowed.includes(host.toLowerCase());
}
