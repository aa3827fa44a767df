/**
 * A station process that imports a file and reports progress, for the kill test
 * (tests/integration/import-kill.test.ts). Usage: node --import tsx import-child.ts DATA_DIR ROWS
 */
import type { JobView } from '../../src/shared/contract/jobs';
import { bagRows, csv, uploadFile } from './imports';
import { makeStation } from './station';

const [dataDir, rows] = process.argv.slice(2);
const t = await makeStation({ dataDir });
const admin = t.window();
await admin.ok('setup/create-admin', { username: 'boss', displayName: 'Boss', password: 'correct horse' });
const uploadId = await uploadFile(admin, 'kill.csv', csv(bagRows(Number(rows) / 25, 25)));
const preview = await admin.ok('imports/preview', { uploadId });
const job = await admin.ok('imports/start', { uploadId, mapping: preview.mapping });
console.log(`JOB ${job.id}`);
// One line per progress event main pushes (after each committed batch), until the test kills us.
for (let done = 0; ;) {
  const e = await admin.event((e) => e.event === 'job/progress' && (e.data as JobView).rowsDone > done);
  done = (e.data as JobView).rowsDone;
  console.log(`PROGRESS ${done}`);
}
