import { describe, expect, it } from 'vitest';
import { chromiumPdfArgs } from '../../src/main/trips/chromium-pdf';
import { fileStamp } from '../../src/main/trips/paper';

describe('the manifest file', () => {
  it('names the file by the trip and the local time', () => {
    expect(fileStamp(Date.UTC(2026, 10, 26, 8, 12), 'UTC')).toBe('20261126-0812');
    expect(fileStamp(Date.UTC(2026, 10, 26, 8, 12), 'America/Los_Angeles')).toBe('20261126-0012');
  });
});

describe('the headless Chromium command', () => {
  it('prints from a file with no network, no extensions and a throwaway profile; no sandbox only when asked', () => {
    const args = chromiumPdfArgs({ pageFile: '/tmp/x y/page.html', pdfFile: '/tmp/x y/page.pdf', profileDir: '/tmp/x y/profile', noSandbox: false });
    expect(args).toEqual(
      expect.arrayContaining(['--headless', '--disable-extensions', '--no-pdf-header-footer', '--host-resolver-rules=MAP * ~NOTFOUND']),
    );
    expect(args).toContain('--print-to-pdf=/tmp/x y/page.pdf');
    expect(args).toContain('--user-data-dir=/tmp/x y/profile');
    expect(args.at(-1)).toBe('file:///tmp/x%20y/page.html');
    expect(args).not.toContain('--no-sandbox');
    expect(chromiumPdfArgs({ pageFile: '/p', pdfFile: '/o', profileDir: '/d', noSandbox: true })).toContain('--no-sandbox');
  });
});
