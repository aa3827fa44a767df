import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PAPER_PDF_OPTIONS, PAPER_WINDOW_PREFERENCES, pageDataUrl, paperPrintOptions } from '../../src/main/trips/paper-window';

describe('the desktop app’s paper window', () => {
  it('is sandboxed without JavaScript, Node or a preload, and prints US Letter', () => {
    expect(PAPER_WINDOW_PREFERENCES).toMatchObject({
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      javascript: false,
      webSecurity: true,
    });
    expect(PAPER_WINDOW_PREFERENCES).not.toHaveProperty('preload');
    expect(PAPER_PDF_OPTIONS).toMatchObject({ printBackground: true, pageSize: 'Letter' });
    const url = pageDataUrl('<p>é</p>');
    expect(url.startsWith('data:text/html;charset=utf-8;base64,')).toBe(true);
    expect(Buffer.from(url.split(',')[1], 'base64').toString('utf8')).toBe('<p>é</p>');
    expect(paperPrintOptions('')).toEqual({ silent: true, printBackground: true });
    expect(paperPrintOptions('Dock Laser 4')).toEqual({ silent: true, printBackground: true, deviceName: 'Dock Laser 4' });
  });

  it('is what the Electron shell uses (the binary cannot run here, so this reads the shell)', () => {
    const shell = fs.readFileSync(new URL('../../src/main/index.ts', import.meta.url), 'utf8');
    for (const line of [
      'new BrowserWindow({ show: false, webPreferences: PAPER_WINDOW_PREFERENCES })',
      'await win.loadURL(pageDataUrl(html));',
      'wc.printToPDF(PAPER_PDF_OPTIONS)',
      'wc.print(paperPrintOptions(deviceName),',
      'win.destroy();',
    ]) {
      expect(shell).toContain(line);
    }
  });
});
