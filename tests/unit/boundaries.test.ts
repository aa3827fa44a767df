import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The rule "only the Electron shell imports electron" is checked here, on every `npm test`:
 * every .ts file under src/main except index.ts (the shell) must not import or require
 * 'electron' or any 'electron/…' subpath. Services therefore run under plain Node.
 */
const root = path.resolve(__dirname, '../../src/main');
const SHELL = new Set([path.join(root, 'index.ts')]);
const ELECTRON_IMPORT = /(?:from\s+|import\s*\(\s*|require\s*\(\s*|import\s+)['"]electron(?:\/[^'"]*)?['"]/;

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return /\.(ts|mts|cts|js|mjs)$/.test(e.name) ? [p] : [];
  });
}

describe('process boundaries', () => {
  it('finds the shell and plenty of main-process files to check', () => {
    const files = sourceFiles(root);
    expect(files).toContain(path.join(root, 'index.ts'));
    expect(files.length).toBeGreaterThan(15);
  });

  it('the pattern catches each form of importing electron', () => {
    for (const line of [
      "import { app } from 'electron';",
      'import "electron";',
      "const { app } = require('electron');",
      "await import('electron/main')",
      "export { ipcMain } from 'electron'",
    ]) {
      expect(ELECTRON_IMPORT.test(line), line).toBe(true);
    }
    expect(ELECTRON_IMPORT.test("import eu from 'electron-updater';")).toBe(false);
  });

  it('no file under src/main outside the Electron shell imports electron', () => {
    const offenders = sourceFiles(root).filter((f) => !SHELL.has(f) && ELECTRON_IMPORT.test(fs.readFileSync(f, 'utf8')));
    expect(offenders.map((f) => path.relative(root, f))).toEqual([]);
  });

  it('the renderer imports nothing from main and no Node built-ins', () => {
    const rendererRoot = path.resolve(__dirname, '../../src/renderer');
    const files = sourceFiles(rendererRoot).concat(
      fs.readdirSync(path.join(rendererRoot, 'src'), { recursive: true, encoding: 'utf8' })
        .filter((f) => f.endsWith('.svelte'))
        .map((f) => path.join(rendererRoot, 'src', f)),
    );
    const bad = files.filter((f) => /from\s+['"](?:node:|electron|[./]+\/main\/)/.test(fs.readFileSync(f, 'utf8')));
    expect(bad).toEqual([]);
  });
});
