import { afterEach, describe, expect, it } from 'vitest';
import { JobService } from '../../src/main/jobs/service';
import { silentLogger } from '../../src/main/platform/logger';
import { releaseAll } from '../support/cleanup';
import { makeStation } from '../support/station';

afterEach(releaseAll);

describe('job progress is news, never work', () => {
  it('a progress listener that throws on every call cannot break the job, its log or its end', async () => {
    const t = await makeStation();
    let told = 0;
    const jobs = new JobService({
      db: t.station.database.db,
      now: t.clock.now,
      log: silentLogger,
      onProgress: () => {
        told++;
        throw new Error('listener broke');
      },
    });
    const started = jobs.start('test', {}, null, async (ctx) => {
      for (let i = 1; i <= 3; i++) {
        t.clock.advance(1000);
        ctx.progress({ rowsDone: i, rowsTotal: 3 });
        ctx.log('info', `step ${i}`);
      }
      return { ok: true };
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    for (let i = 0; i < 100 && jobs.get(started.id).status === 'running'; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(jobs.get(started.id)).toMatchObject({ status: 'succeeded', result: { ok: true }, progress: 1 });
    expect(told).toBeGreaterThan(1);
    expect(jobs.logLines(started.id).map((l) => l.message)).toEqual(['step 1', 'step 2', 'step 3']);
    expect(jobs.heartbeatAt(started.id)).toBe(t.clock.now());
  });
});
