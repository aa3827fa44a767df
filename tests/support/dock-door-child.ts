/**
 * A dock door in its own process with its own database connection, for the concurrent-link test
 * (tests/integration/bags.test.ts). Usage: node --import tsx dock-door-child.ts DATA_DIR PARENT CHILD
 * Signs in as dock1, scans PARENT and prints READY; on a line GO prints SCANNING, scans CHILD,
 * prints RESULT and the envelope as JSON, closes its station and exits.
 */
import readline from 'node:readline';
import { makeStation } from './station';

const [dataDir, parent, child] = process.argv.slice(2);
const t = await makeStation({ dataDir, scannerPollMs: 0 });
const door = t.window(`door of ${parent}`);
await door.ok('auth/login', { username: 'dock1', secret: 'password-123' });
await door.ok('bags/scan', { code: parent, source: 'wedge' });
console.log('READY');
for await (const line of readline.createInterface({ input: process.stdin })) if (line === 'GO') break;
// Written to the pipe before the scan starts (stdout to a pipe is synchronous on Linux).
console.log('SCANNING');
const result = await door.call('bags/scan', { code: child, source: 'wedge' });
console.log(`RESULT ${JSON.stringify(result)}`);
await t.close();
process.exit(0);
