import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { releaseAll } from '../support/cleanup';
import { bagRows, csv, importFile } from '../support/imports';
import { runScript } from '../support/script';
import { makeStation, tempDir } from '../support/station';

const ROWS = 100_000; // 20 batches: the kill lands after the first (5,000) with 19 to spare, and the re-run stays well inside the time limit under load
const IMPORT_SCRIPT = fileURLToPath(new URL('../support/import-child.ts', import.meta.url));
afterEach(releaseAll);

describe('an import killed midway', () => {
  it('leaves whole batches only, marks the job interrupted, and a re-run completes the file', async () => {
    const dataDir = tempDir();
    const child = runScript(IMPORT_SCRIPT, [dataDir, String(ROWS)]);
    const progressed = await child.line((l) => /^PROGRESS (\d+)$/.test(l) && Number(l.slice(9)) >= 5000);
    child.kill('SIGKILL'); // not a thrown error: the process just stops
    await child.closed;
    const killedAt = Number(progressed.slice(9));
    expect(killedAt).toBeLessThan(ROWS);

    const t = await makeStation({ dataDir });
    const db = t.station.database.sqlite;
    const one = (sql: string) => Object.values(db.prepare(sql).get() as object)[0];
    expect(one('PRAGMA integrity_check')).toBe('ok');
    expect(db.prepare('PRAGMA foreign_key_check').all()).toEqual([]);
    const links = one('SELECT count(*) FROM bag_links') as number;
    expect(links % 5000).toBe(0); // whole batches only
    expect(links).toBeGreaterThan(0);
    expect(links).toBeLessThan(ROWS);
    expect(one("SELECT count(*) FROM bags WHERE kind = 'child' AND id NOT IN (SELECT child_id FROM bag_links)")).toBe(0);
    expect(one("SELECT count(*) FROM audit_log WHERE action = 'bags.imported'")).toBe(links / 5000);
    expect(one("SELECT count(*) FROM outbox WHERE op = 'import_links@1'")).toBe(links / 5000);
    const job = db.prepare("SELECT status, error FROM jobs WHERE kind = 'import'").get() as { status: string; error: string };
    expect(job).toMatchObject({ status: 'failed', error: expect.stringContaining('Interrupted') });

    const admin = t.window();
    await admin.ok('auth/login', { username: 'boss', secret: 'correct horse' });
    const rerun = await importFile(admin, 'kill.csv', csv(bagRows(ROWS / 25, 25)));
    expect(rerun.result).toMatchObject({ linked: ROWS - links, alreadyPresent: links, rejected: 0 });
    expect(one('SELECT count(*) FROM bag_links')).toBe(ROWS);
  }, 120_000);
});
