import { afterEach, describe, expect, it } from 'vitest';
import { stationWork } from '../../src/main/updates/work';
import { releaseAll } from '../support/cleanup';
import { makeStation } from '../support/station';

afterEach(releaseAll);

/**
 * What the install policy counts as work, read from a station's own tables: a stock count holds up
 * an update only while its claim is live; one whose claim ran out or was lost (its person left,
 * the lease lapsed) holds nothing.
 */
describe('work in progress for the install policy', () => {
  it('counts an open stock count only while its claim is live', async () => {
    const t = await makeStation();
    const sqlite = t.station.database.sqlite;
    const work = stationWork(sqlite, () => t.clock.now());
    const session = (id: string, expiresAt: number | null, lapsedAt: number | null, status = 'open') =>
      sqlite
        .prepare(
          `INSERT INTO verify_sessions (id, rack_id, floor, user_id, username, started_at, lease_id, lease_expires_at, lapsed_at, status)
           VALUES (?, 'R1', 'Ground', 1, 'dana', ?, 'lease', ?, ?, ?)`,
        )
        .run(id, t.clock.now(), expiresAt, lapsedAt, status);
    expect(work().openCounts).toBe(0);
    session('live', t.clock.now() + 60_000, null);
    session('ran-out', t.clock.now() - 1, null);
    session('lost', t.clock.now() + 60_000, t.clock.now());
    session('done', t.clock.now() + 60_000, null, 'finalized');
    expect(work().openCounts).toBe(1);
    t.clock.advance(60_000);
    expect(work().openCounts).toBe(0);
  });
});
