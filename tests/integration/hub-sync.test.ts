import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HUB_MIGRATIONS } from '../../src/hub/db';
import { revokeStation } from '../../src/hub/enrolment';
import { releaseAll } from '../support/cleanup';
import { enrolStation, followFeed, hubClient, startHubDatabase, startHubProcess, type HubProcess } from '../support/hub';
import type { TestPostgres } from '../support/postgres';

/**
 * Two hub processes (separate Node processes, as `npm run hub` starts them) on one real PostgreSQL
 * started by the test. They also start together on an empty database: the migration lock is what
 * lets both come up.
 */
let postgres: TestPostgres;
let hubs: [HubProcess, HubProcess];
let admin: pg.Pool;
let dock1: ReturnType<typeof hubClient>;
let dock2: ReturnType<typeof hubClient>;

const T0 = Date.UTC(2026, 10, 26, 8, 0, 0);
const op = (name: string, payload: Record<string, unknown>) => ({ opId: randomUUID(), op: name, payload });
const link = (child: string, parent: string, by: string, at = T0) => op('link_child@1', { child, parent, at, by, station: 'x' });

beforeAll(async () => {
  ({ postgres, admin } = await startHubDatabase());
  hubs = (await Promise.all([startHubProcess(postgres.url), startHubProcess(postgres.url)])) as [HubProcess, HubProcess];
  dock1 = await enrolStation(admin, hubs[0].url, 'Dock 1');
  dock2 = await enrolStation(admin, hubs[1].url, 'Dock 2');
}, 120_000);

afterAll(releaseAll, 60_000); // hub processes and PostgreSQL stop here

describe('hub: two processes on one PostgreSQL', () => {
  it('migrated once although both started together', async () => {
    const { rows } = await admin.query('SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations');
    const journal = JSON.parse(fs.readFileSync(path.join(HUB_MIGRATIONS, 'meta/_journal.json'), 'utf8')) as { entries: unknown[] };
    expect(rows[0].n).toBe(journal.entries.length);
  });

  it('links a child to two parents at once through the two hubs: exactly one link, the other answers conflict naming the winner', async () => {
    for (let round = 0; round < 10; round++) {
      const child = `C${round}RACE`;
      const [a, b] = await Promise.all([dock1.push([link(child, `SB1000${round}`, 'dock1')]), dock2.push([link(child, `SB2000${round}`, 'dock2')])]);
      expect(a.status).toBe(200);
      expect(b.status).toBe(200);
      const answers = [a.body.results[0], b.body.results[0]];
      const won = answers.filter((r) => r.status === 'ok');
      const lost = answers.filter((r) => r.status === 'conflict');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      const { rows } = await admin.query('SELECT parent_code, user_name FROM bag_links WHERE child_code = $1', [child]);
      expect(rows).toHaveLength(1);
      const winnerIsDock1 = won[0] === answers[0];
      expect(lost[0].winner).toMatchObject({
        child,
        parent: rows[0].parent_code,
        station: winnerIsDock1 ? 'Dock 1' : 'Dock 2',
        user: winnerIsDock1 ? 'dock1' : 'dock2',
        at: T0,
        seq: won[0].seq,
      });
      expect(lost[0].message).toContain(`${child} is on ${rows[0].parent_code}`);
      expect(lost[0].message).toContain(winnerIsDock1 ? 'Dock 1' : 'Dock 2');
    }
  }, 60_000);

  it('applies an op sent twice once, to the same hub or the other, and answers its first answer again', async () => {
    const first = link('CTWICE1', 'SB30001', 'dock1');
    const a = await dock1.push([first]);
    expect(a.body.results[0]).toMatchObject({ opId: first.opId, status: 'ok' });
    const again = await dock1.push([first]);
    expect(again.body.results[0]).toEqual({ ...a.body.results[0], duplicate: true });
    // Through the other hub (behind a load balancer a resend may land anywhere): the same answer, nothing applied.
    const elsewhere = await hubClient(hubs[1].url, dock1.token).push([first]);
    expect(elsewhere.body.results[0]).toEqual({ ...a.body.results[0], duplicate: true });
    const { rows } = await admin.query('SELECT count(*)::int AS n FROM feed WHERE op_id = $1', [first.opId]);
    expect(rows[0].n).toBe(1);

    // Both hubs at once with one op: one applies, the other waits for it and answers the same.
    const both = link('CTWICE2', 'SB30002', 'dock2');
    const [x, y] = await Promise.all([dock2.push([both]), hubClient(hubs[0].url, dock2.token!).push([both])]);
    const answers = [x.body.results[0], y.body.results[0]];
    expect(answers.map((r) => r.status)).toEqual(['ok', 'ok']);
    expect(answers.filter((r) => r.duplicate)).toHaveLength(1);
    expect(answers[0].seq).toBe(answers[1].seq);
    const feed = await admin.query('SELECT count(*)::int AS n FROM feed WHERE op_id = $1', [both.opId]);
    expect(feed.rows[0].n).toBe(1);
  });

  it('refuses bad payloads per op, in words, and applies the rest of the batch', async () => {
    const good1 = link('CBATCH1', 'SB40001', 'dock1');
    const good2 = op('bag_created@1', { code: 'SB40002', kind: 'parent', at: T0, by: 'dock1' });
    const res = await dock1.push([
      good1,
      { opId: randomUUID(), op: 'link_child@1', payload: { child: 'CBATCH2', at: T0, by: 'dock1' } },
      { opId: randomUUID(), op: 'teleport_bag@1', payload: {} },
      { op: 'link_child@1', payload: {} },
      'not an op',
      good2,
    ]);
    expect(res.status).toBe(200);
    const r = res.body.results;
    expect(r.map((x: { status: string }) => x.status)).toEqual(['ok', 'error', 'error', 'error', 'error', 'ok']);
    expect(r[0].opId).toBe(good1.opId);
    expect(r[1].message).toMatch(/link_child@1 payload refused: parent: /);
    expect(r[2].message).toMatch(/Unknown op “teleport_bag@1”/);
    expect(r[3].message).toMatch(/Not an op: opId/);
    expect(r[5].opId).toBe(good2.opId);
    const { rows } = await admin.query(`SELECT count(*)::int AS n FROM bags WHERE code = 'CBATCH2'`);
    expect(rows[0].n).toBe(0);

    const whole = await dock1.call('POST', '/v1/ops', { ops: 'nope' });
    expect(whole.status).toBe(400);
    expect(whole.body.error.message).toMatch(/ops/);
  });

  it('feed since=N returns every applied op after N in order, a page at a time', async () => {
    const start = (await dock1.feed(0, 1000)).body;
    const since = start.next as number;
    const ops = Array.from({ length: 7 }, (_, i) => link(`CFEED${i}`, 'SB50001', i % 2 ? 'dock1' : 'dock2', T0 + i));
    await dock1.push(ops.slice(0, 4));
    await dock2.push(ops.slice(4));
    const seen: { seq: number; opId: string; station: string }[] = [];
    let cursor = since;
    for (;;) {
      const page = await dock2.feed(cursor, 3);
      expect(page.status).toBe(200);
      seen.push(...page.body.entries);
      cursor = page.body.next;
      if (!page.body.more) break;
    }
    expect(seen.map((e) => e.opId)).toEqual(ops.map((o) => o.opId));
    const seqs = seen.map((e) => e.seq);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    expect(seqs.every((s) => s > since)).toBe(true);
    expect(seen[0]).toMatchObject({ station: 'Dock 1', op: 'link_child@1', payload: { child: 'CFEED0', parent: 'SB50001' } });
    expect((await dock1.feed(cursor)).body).toEqual({ entries: [], next: cursor, more: false });
    const bad = await dock1.call('GET', '/v1/feed?since=-1&limit=5000');
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/since is 0 or more.*limit is at most 1000/);
  });

  it('a station following the feed while both hubs apply ops at once misses none and sees none twice', async () => {
    const since = (await dock1.feed(0, 1000)).body.next as number;
    const ops = Array.from({ length: 240 }, (_, i) => link(`CFOLLOW${i}`, `SB7000${i % 6}`, i % 2 ? 'dock1' : 'dock2'));
    let writing = true;
    const writers = Promise.all(
      [0, 1, 2, 3, 4, 5].map(async (w) => {
        const client = w % 2 ? dock1 : hubClient(hubs[1].url, dock2.token);
        for (let i = w * 40; i < (w + 1) * 40; i += 4) await client.push(ops.slice(i, i + 4));
      }),
    ).finally(() => (writing = false));
    const seen: { seq: number; opId: string }[] = [];
    let cursor = since;
    // Follow while the writers write, then once more after they are done.
    for (let done = false; !done;) {
      done = !writing;
      const page = await dock2.feed(cursor, 50);
      seen.push(...page.body.entries);
      cursor = page.body.next;
      if (done && page.body.more) done = false;
    }
    await writers;
    const ids = seen.map((e) => e.opId);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ops.map((o) => o.opId).sort());
    const seqs = seen.map((e) => e.seq);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
  }, 60_000);

  it('a station following the stream on one hub gets the ops applied through the other, in order, as they are applied', async () => {
    const since = (await dock1.feed(0, 1000)).body.next as number;
    const stream = await followFeed(hubs[1].url, dock2.token!, since);
    expect(stream.status).toBe(200);
    const ops = [link('CSTREAM1', 'SB80001', 'dock1'), link('CSTREAM2', 'SB80001', 'dock1')];
    for (const o of ops) {
      const seq = (await dock1.push([o])).body.results[0].seq;
      // Each arrives before the next is sent: pushed, not found by a later poll.
      expect(await stream.entries.first((e) => e.opId === o.opId)).toMatchObject({ seq, station: 'Dock 1', op: 'link_child@1' });
    }
    // A stream begun from an older seq first catches up.
    const late = await followFeed(hubs[0].url, dock1.token!, since);
    await late.entries.first((e) => e.opId === ops[1].opId);
    expect(late.entries.items.map((e) => e.opId)).toEqual(ops.map((o) => o.opId));
    stream.close();
    late.close();
  }, 60_000);

  it('refuses calls without a token, with an unknown one, and from a revoked station, in words', async () => {
    const none = await hubClient(hubs[0].url).push([]);
    expect(none.status).toBe(401);
    expect(none.body.error.message).toMatch(/needs the station token/);
    const unknown = await hubClient(hubs[0].url, 'not-a-token').feed(0);
    expect(unknown.status).toBe(401);
    expect(unknown.body.error.message).toMatch(/not known to the hub/);

    const dock3 = await enrolStation(admin, hubs[0].url, 'Dock 3');
    expect((await dock3.push([link('CREVOKE1', 'SB60001', 'dock3')])).body.results[0].status).toBe('ok');
    expect(await revokeStation(admin, 'Dock 3')).toBe(true);
    for (const hub of hubs) {
      const refused = await hubClient(hub.url, dock3.token!).push([link('CREVOKE2', 'SB60001', 'dock3')]);
      expect(refused.status).toBe(401);
      expect(refused.body.error.message).toMatch(/Station “Dock 3” was revoked from the site at .*enrol it again/);
      const feed = await hubClient(hub.url, dock3.token!).feed(0);
      expect(feed.status).toBe(401);
      expect((await followFeed(hub.url, dock3.token!, 0)).status).toBe(401);
    }
    const { rows } = await admin.query(`SELECT count(*)::int AS n FROM bags WHERE code = 'CREVOKE2'`);
    expect(rows[0].n).toBe(0);
  });
});
