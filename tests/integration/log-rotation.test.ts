import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/main/platform/logger';
import { releaseAll } from '../support/cleanup';
import { tempDir } from '../support/station';

afterEach(releaseAll);

/** dockside.N.log files, oldest first, with their sizes. */
function logFiles(dir: string): { name: string; n: number; bytes: number }[] {
  return fs
    .readdirSync(dir)
    .map((name) => ({ name, m: /^dockside\.(\d+)\.log$/.exec(name) }))
    .filter((f) => f.m)
    .map((f) => ({ name: f.name, n: Number(f.m![1]), bytes: fs.statSync(path.join(dir, f.name)).size }))
    .sort((a, b) => a.n - b.n);
}

/** Writes `lines` log lines, each on disk before the next (pino-roll rolls when the writes catch up). */
async function writeLines(log: Awaited<ReturnType<typeof createLogger>>, lines: number, from = 0): Promise<void> {
  for (let i = from; i < from + lines; i++) {
    log.logger.info({ line: i, filler: 'x'.repeat(150) }, 'a line of the station log');
    await log.flush();
  }
}

describe('the log rotates by size and keeps a few files', () => {
  it('past the size limit a new file begins, and only the newest N files remain', async () => {
    const dir = tempDir();
    const log = await createLogger({ dir, rotateBytes: 4096, filesKept: 3 });
    await writeLines(log, 200); // about 48 KB: a dozen rotations
    await log.close();
    // pino-roll deletes old files after each roll, asynchronously; wait for it to settle.
    await expect.poll(() => logFiles(dir).length, { timeout: 15_000 }).toBe(3);
    const files = logFiles(dir);
    expect(files.map((f) => f.n)).toEqual([files[0].n, files[0].n + 1, files[0].n + 2]);
    expect(files[0].n).toBeGreaterThan(5);
    // Each closed file stopped near the limit: lines on their way while the next file opens land
    // on either side of the cut, so "near" is within a few lines, never double.
    for (const f of files.slice(0, -1)) {
      expect(f.bytes).toBeGreaterThan(4096 / 2);
      expect(f.bytes).toBeLessThan(4096 * 2);
    }
    // Every line that was written is whole JSON, the last one included (close flushed it).
    const last = fs
      .readFileSync(path.join(dir, files.at(-1)!.name), 'utf8')
      .trim()
      .split('\n');
    expect(JSON.parse(last.at(-1)!)).toMatchObject({ line: 199, msg: 'a line of the station log' });
  });

  it('a restart goes on from the newest file and still keeps only N, the old single dockside.log included', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'dockside.log'), '{"msg":"before rotation existed"}\n');
    const first = await createLogger({ dir, rotateBytes: 4096, filesKept: 2 });
    await writeLines(first, 10);
    await first.close();
    const before = logFiles(dir);
    expect(fs.existsSync(path.join(dir, 'dockside.log'))).toBe(false);

    const second = await createLogger({ dir, rotateBytes: 4096, filesKept: 2 });
    await writeLines(second, 100, 10);
    await second.close();
    await expect.poll(() => logFiles(dir).length, { timeout: 15_000 }).toBe(2);
    expect(logFiles(dir)[0].n).toBeGreaterThan(before.at(-1)!.n);
  });

  it('a disk that refuses the log (full) stops nothing, and lines are written again once it takes them', async () => {
    const dir = tempDir();
    const log = await createLogger({ dir });
    log.logger.info('before the disk filled');
    await log.flush();
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const full = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    const write = vi.spyOn(fs, 'write').mockImplementationOnce(((...args: unknown[]) => {
      (args.at(-1) as (err: Error) => void)(full);
    }) as unknown as typeof fs.write);
    log.logger.info('while the disk is full');
    expect(write).toHaveBeenCalledTimes(1);
    expect(stderr).toHaveBeenCalledWith(expect.stringContaining('cannot write the log (ENOSPC'));
    write.mockRestore();
    stderr.mockRestore();
    log.logger.info('after space came back');
    await log.close();
    const lines = fs
      .readFileSync(path.join(dir, logFiles(dir)[0].name), 'utf8')
      .trim()
      .split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual([
      'before the disk filled',
      'while the disk is full',
      'after space came back',
    ]);
  });

  it('secrets are redacted in the file', async () => {
    const dir = tempDir();
    const log = await createLogger({ dir });
    log.logger.info({ user: { password: 'hunter22' }, token: 'abc' }, 'signed in');
    await log.close();
    const text = fs.readFileSync(path.join(dir, logFiles(dir)[0].name), 'utf8');
    expect(text).toContain('[redacted]');
    expect(text).not.toContain('hunter22');
  });
});
