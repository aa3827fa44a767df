#!/usr/bin/env node
/**
 * `npm start`: build, then run Dockside in Electron where its binary is installed, otherwise the
 * browser host (same app, served to Chromium on 127.0.0.1). Demo data unless DOCKSIDE_DEMO=0.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const demo = process.env.DOCKSIDE_DEMO !== '0';

function electronBinary() {
  try {
    const bin = require('electron'); // the package exports the binary's path, or throws if it was not downloaded
    return typeof bin === 'string' && fs.existsSync(bin) ? bin : null;
  } catch {
    return null;
  }
}

const build = spawnSync(process.execPath, [path.resolve('node_modules/electron-vite/bin/electron-vite.js'), 'build'], { stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);

const bin = electronBinary();
let child;
if (bin) {
  child = spawn(bin, ['.'], { stdio: 'inherit', env: { ...process.env, DOCKSIDE_DEMO: demo ? '1' : '0' } });
} else {
  console.log(
    '\nThe Electron binary is not installed here (npm install does not download it; see README), so\n' +
      'Dockside starts its browser host instead: the same app, served on 127.0.0.1. Open the address below in Chromium\n' +
      '(e.g. `chromium --app=URL`). `npm run host:demo` does the same; `npm run host` starts without demo data.\n',
  );
  child = spawn(process.execPath, ['out/main/host.js', ...(demo ? ['--demo'] : []), ...process.argv.slice(2)], { stdio: 'inherit' });
}
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code) => process.exit(code ?? 0));
