/**
 * Pure checks the Electron shell uses; kept here so hostile inputs are unit-tested without Electron.
 */

/** The renderer may only ever show our own page: the packaged file or the dev server. */
export function isAppUrl(candidate: string, appUrl: string): boolean {
  let a: URL;
  let b: URL;
  try {
    a = new URL(candidate);
    b = new URL(appUrl);
  } catch {
    return false;
  }
  if (a.protocol !== b.protocol) return false;
  if (a.protocol === 'file:') return a.pathname === b.pathname;
  return a.origin === b.origin;
}

/** IPC is answered only for frames showing our page, not for any frame that found the channel. */
export function isTrustedSender(frameUrl: string | undefined, appUrl: string): boolean {
  return typeof frameUrl === 'string' && isAppUrl(frameUrl, appUrl);
}
