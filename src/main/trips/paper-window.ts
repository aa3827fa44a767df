/**
 * The Electron shell's hidden window that renders a manifest page for printToPDF and print: the
 * settings live here, in a plain module, so they are tested without an Electron binary. The page
 * runs nothing (JavaScript off, sandboxed, no preload, so no IPC) and fetches nothing (its CSP).
 */
export const PAPER_WINDOW_PREFERENCES = {
  sandbox: true,
  contextIsolation: true,
  nodeIntegration: false,
  javascript: false,
  webSecurity: true,
  devTools: false,
  spellcheck: false,
} as const;

/** printToPDF's options: US Letter from the page's own @page rule, backgrounds (the stop boxes) kept. */
export const PAPER_PDF_OPTIONS = { printBackground: true, pageSize: 'Letter', preferCSSPageSize: true } as const;

/** The page as a data: URL, so nothing is written to disk and nothing is served. */
export function pageDataUrl(html: string): string {
  return `data:text/html;charset=utf-8;base64,${Buffer.from(html, 'utf8').toString('base64')}`;
}

/** webContents.print's options: silent, on the named printer or the system default for ''. */
export function paperPrintOptions(deviceName: string): { silent: true; printBackground: true; deviceName?: string } {
  return deviceName ? { silent: true, printBackground: true, deviceName } : { silent: true, printBackground: true };
}
