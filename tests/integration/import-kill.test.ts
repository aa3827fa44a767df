import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { releaseAll } from '../support/cleanup';
import { bagRows, csv, importFile } from '../support/imports';
import { runScript } from '../support/script';
import { IMPORT_BATCH_ROWS } from '../../src/main/imports/commit';
import { makeStation, signInAs, tempDir } from '../support/station';

const ROWS = 100_000;
const IMPORT_SCRIPT = fileURLToPath(new URL('../support/import-child.ts', import.meta.url));
afterEach(releaseAll);

describe('an import killed midway', () => {
  it('leaves whole batches only, marks the job interrupted, and a re-run completes the file', async () => {
    const dataDir = tempDir();
    const child = runScript(IMPORT_SCRIPT, [dataDir, String(ROWS)]);
    const linked = await child.line((l) => /^LINKED \d+$/.test(l));
    child.kill('SIGKILL'); // not a thrown error: the process just stops
    await child.closed;
    expect(Number(linked.slice(7))).toBeLessThan(ROWS);

    const t = await makeStation({ dataDir });
    const db = t.station.database.sqlite;
    const one = (sql: string) => Object.values(db.prepare(sql).get() as object)[0];
    expect(one('PRAGMA integrity_check')).toBe('ok');
    expect(db.prepare('PRAGMA foreign_key_check').all()).toEqual([]);
    const links = one('SELECT count(*) FROM bag_links') as number;
    expect(links % IMPORT_BATCH_ROWS).toBe(0); // whole batches only
    expect(links).toBeGreaterThan(0);
    expect(links).toBeLessThan(ROWS);
    expect(one("SELECT count(*) FROM bags WHERE kind = 'child' AND id NOT IN (SELECT child_id FROM bag_links)")).toBe(0);
    expect(one("SELECT count(*) FROM audit_log WHERE action = 'bags.imported'")).toBe(links / IMPORT_BATCH_ROWS);
    expect(one("SELECT count(*) FROM outbox WHERE op = 'import_links@1'")).toBe(links / IMPORT_BATCH_ROWS);
    const job = db.prepare("SELECT status, error FROM jobs WHERE kind = 'import'").get() as { status: string; error: string };
    expect(job).toMatchObject({ status: 'failed', error: expect.stringContaining('Interrupted') });

    const admin = t.window();
    await signInAs(t, admin, 'boss', 'correct horse');
    const rerun = await importFile(admin, 'kill.csv', csv(bagRows(ROWS / 25, 25)));
    expect(rerun.result).toMatchObject({ linked: ROWS - links, alreadyPresent: links, rejected: 0 });
    expect(one('SELECT count(*) FROM bag_links')).toBe(ROWS);
  }, 120_000);
});
