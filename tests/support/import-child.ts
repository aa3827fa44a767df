/**
 * A station process that imports a file and stops once some of it is in, for the kill test
 * (tests/integration/import-kill.test.ts). Usage: node --import tsx import-child.ts DATA_DIR ROWS
 */
import type { JobView } from '../../src/shared/contract/jobs';
import { bagRows, csv, uploadFile } from './imports';
import { passSecondFactor } from './second-factor';
import { makeStation } from './station';

const [dataDir, rows] = process.argv.slice(2);
const t = await makeStation({ dataDir });
const admin = t.window();
await passSecondFactor(t, admin.raw, await admin.ok('setup/create-admin', { username: 'boss', displayName: 'Boss', password: 'correct horse' }));
const uploadId = await uploadFile(admin, 'kill.csv', csv(bagRows(Number(rows) / 25, 25)));
const preview = await admin.ok('imports/preview', { uploadId });
const job = await admin.ok('imports/start', { uploadId, mapping: preview.mapping! });
console.log(`JOB ${job.id}`);
// Once the first batch is committed, the main thread stops here until the test kills us, so the
// kill lands mid-import however fast the machine is. The check runs between the commit's batches
// (it yields after each); a pipe's stdout is written synchronously on Linux, so the line is out first.
await admin.event((e) => e.event === 'job/progress' && (e.data as JobView).rowsDone > 0);
const links = t.station.database.sqlite.prepare('SELECT count(*) FROM bag_links').pluck();
while ((links.get() as number) === 0) await new Promise((r) => setImmediate(r));
console.log(`LINKED ${String(links.get())}`);
Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10 * 60_000);
