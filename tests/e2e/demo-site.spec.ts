import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect, signIn, test } from './fixtures';

/** `npm run demo:site` (scripts/demo-site.ts) on free ports, after the suite's build. */
test('demo:site starts a hub and two demo stations joined to it, and Ctrl+C stops all of it, its PostgreSQL included', async ({ browser }) => {
  test.setTimeout(180_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dockside-demo-site-'));
  const demo = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo-site.ts', '--no-build', '--ports', '0,0', '--hub-port', '0', '--dir', dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  demo.stdout.on('data', (d: Buffer) => (output += d.toString()));
  demo.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => demo.once('close', (code) => resolve(code)));
  try {
    await expect.poll(() => output.includes('Press Ctrl+C to stop all of it.') || demo.exitCode !== null, { timeout: 150_000 }).toBe(true);
    expect(demo.exitCode, output).toBeNull();
    const urls = [...output.matchAll(/^ {2}Dock door \d {2}(http\S+)$/gm)].map((m) => m[1]);
    expect(urls, output).toHaveLength(2);

    // The hub's own admin command, beside the running hub, lists both stations as enrolled.
    const { stdout } = await promisify(execFile)(process.execPath, [
      '--import',
      'tsx',
      'src/hub/main.ts',
      'stations',
      '--data-dir',
      path.join(dir, 'hub'),
    ]);
    expect(stdout).toMatch(/\tDock door 1\tenrolled /);
    expect(stdout).toMatch(/\tDock door 2\tenrolled /);

    // Both doors serve the app with the demo people: the dispatcher signs in at each.
    for (const url of urls) {
      const page = await browser.newPage();
      await page.goto(url);
      await signIn(page, 'dock1', '3917');
      await expect(page.getByRole('navigation', { name: 'Screens' })).toBeVisible();
      await page.close();
    }

    demo.kill('SIGINT');
    expect(await exited).toBe(0);
    // The hub stopped its PostgreSQL: the cluster's lock file is gone.
    expect(fs.existsSync(path.join(dir, 'hub', 'postgres', 'data', 'postmaster.pid'))).toBe(false);
  } finally {
    if (demo.exitCode === null && demo.signalCode === null) {
      demo.kill('SIGINT');
      await exited;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
