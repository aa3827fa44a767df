import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { DomainError } from '../../shared/envelope';
import { OWNER_ONLY_FILE, ownerOnlyFolder } from '../files/owner-only';

/** Renders one self-contained HTML page to PDF bytes. */
export type RenderPdf = (html: string) => Promise<Buffer>;

export const DEFAULT_CHROMIUM = '/usr/bin/chromium';
/** A hung Chromium is killed after this; a manifest renders in about a second, so this only catches a hang. */
export const CHROMIUM_PDF_TIMEOUT_MS = 90_000;

export interface ChromiumPdfOptions {
  /** Where the page and Chromium's throwaway profile are written: the station's owner-only tmp folder. */
  tmpDir: string;
  /** The Chromium binary; `DOCKSIDE_CHROMIUM` or /usr/bin/chromium by default. */
  executable?: string;
  timeoutMs?: number;
  /** Chromium refuses its sandbox as root; default: off only when running as root. */
  noSandbox?: boolean;
}

/**
 * The arguments for one headless print: the page from a file, no network (every host name
 * resolves nowhere), no extensions, no first-run or background traffic, a profile thrown away after.
 * Scripts are not switched off by a flag (`--blink-settings=scriptEnabled=false` makes headless
 * print nothing); the page's own CSP (`default-src 'none'`) keeps them from running.
 */
export function chromiumPdfArgs(o: { pageFile: string; pdfFile: string; profileDir: string; noSandbox: boolean }): string[] {
  return [
    '--headless',
    ...(o.noSandbox ? ['--no-sandbox'] : []),
    '--disable-gpu',
    '--disable-extensions',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-default-apps',
    '--no-first-run',
    '--no-default-browser-check',
    '--host-resolver-rules=MAP * ~NOTFOUND',
    `--user-data-dir=${o.profileDir}`,
    '--no-pdf-header-footer',
    `--print-to-pdf=${o.pdfFile}`,
    pathToFileURL(o.pageFile).href,
  ];
}

/**
 * The browser host's PDF renderer: Debian's Chromium, headless, prints the page to a file. The page
 * and profile live in an owner-only temp folder removed whatever happens; a Chromium that hangs is
 * killed with its whole process group; no Chromium is a refusal in words, not a crash.
 */
export function chromiumPdf(options: ChromiumPdfOptions): RenderPdf {
  const executable = options.executable ?? (process.env.DOCKSIDE_CHROMIUM || DEFAULT_CHROMIUM);
  const timeoutMs = options.timeoutMs ?? CHROMIUM_PDF_TIMEOUT_MS;
  const noSandbox = options.noSandbox ?? process.getuid?.() === 0;
  return async (html) => {
    if (!fs.existsSync(executable)) {
      throw new DomainError(
        'unavailable',
        `No Chromium to make the PDF with at ${executable}: install it (apt-get install chromium) or set DOCKSIDE_CHROMIUM`,
      );
    }
    ownerOnlyFolder(options.tmpDir);
    const dir = fs.mkdtempSync(path.join(options.tmpDir, 'pdf-'));
    try {
      const pageFile = path.join(dir, 'page.html');
      const pdfFile = path.join(dir, 'page.pdf');
      fs.writeFileSync(pageFile, html, { mode: OWNER_ONLY_FILE });
      await run(executable, chromiumPdfArgs({ pageFile, pdfFile, profileDir: path.join(dir, 'profile'), noSandbox }), timeoutMs);
      let pdf: Buffer;
      try {
        pdf = fs.readFileSync(pdfFile);
      } catch {
        throw new DomainError('unavailable', 'Chromium ended without writing the PDF');
      }
      if (pdf.subarray(0, 5).toString('latin1') !== '%PDF-') throw new DomainError('unavailable', 'Chromium wrote something that is not a PDF');
      return pdf;
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };
}

/**
 * spawn with an argument array and no shell (execFile would do, but drops `detached`): Chromium
 * gets its own process group, so a hung browser is killed with its renderer and GPU children.
 */
function run(executable: string, args: string[], timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let stderr = '';
    let timedOut = false;
    let settled = false;
    const finish = (error: DomainError | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) reject(error);
      else resolve();
    };
    const child = spawn(executable, args, { detached: true, shell: false, stdio: ['ignore', 'ignore', 'pipe'], windowsHide: true });
    child.stderr.setEncoding('utf8');
    // Only the tail is kept: it says why Chromium failed; the rest is D-Bus noise.
    child.stderr.on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-8192)));
    child.on('error', (error: NodeJS.ErrnoException) =>
      finish(
        new DomainError(
          'unavailable',
          `Chromium cannot be started (${executable}: ${error.code ?? error.message}): install it or set DOCKSIDE_CHROMIUM`,
        ),
      ),
    );
    child.on('close', (code, signal) => {
      if (timedOut) return;
      if (code === 0) return finish(null);
      const why = lastLine(stderr) || (signal ? `stopped by ${signal}` : `exit code ${code}`);
      finish(new DomainError('unavailable', `Chromium could not make the PDF: ${why}`));
    });
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
      // Not waiting for its pipes to close: a child that left the group could hold them open.
      finish(new DomainError('unavailable', `Chromium did not finish the PDF within ${Math.round(timeoutMs / 1000)} s and was stopped`));
    }, timeoutMs);
  });
}

/** Chromium's stderr is mostly D-Bus noise; its last line that is not says why it failed. */
function lastLine(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/dbus|unexpected operator/i.test(l));
  return (lines.at(-1) ?? '').slice(0, 300);
}
