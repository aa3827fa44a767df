import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHANNEL_NAMES, contract } from '../../src/shared/contract';
import type { ChannelSpec, SessionInfo } from '../../src/shared/contract';
import { releaseAll } from '../support/cleanup';
import { jsonSchemaOf, malformedPayloads } from '../support/malformed';
import { snapshotDatabase, startTestHost, withAdmin } from '../support/station';
import { passSecondFactor } from '../support/second-factor';
import { connectWs } from '../support/ws-client';

/**
 * Every channel of the contract gets payloads broken in every way its schema allows us to
 * derive; each must answer 'invalid' with a message and leave the database and session as they were.
 */
const specs = contract as Record<string, ChannelSpec>;
const plan = CHANNEL_NAMES.map((channel) => ({ channel, ...malformedPayloads(specs[channel].request) }));

describe('malformed payload generator', () => {
  it.each(plan.map((p) => [p.channel, p] as const))('%s: the base payload is valid, so each case breaks one thing', (_c, p) => {
    const parsed = specs[p.channel].request.safeParse(p.valid);
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
    expect(p.cases.length).toBeGreaterThanOrEqual(7);
  });

  it('every request schema refuses unknown keys (strict objects), so typos never pass silently', () => {
    const loose = CHANNEL_NAMES.filter((c) => jsonSchemaOf(specs[c].request).additionalProperties !== false);
    expect(loose).toEqual([]);
  });

  it('covers fields of every kind in the contract', () => {
    const labels = plan.flatMap((p) => p.cases.map((c) => c.label));
    for (const kind of ['too long', 'too short', 'pattern', 'not in enum', 'below minimum', 'fraction', 'missing', 'unknown key']) {
      expect(
        labels.some((l) => l.includes(kind)),
        kind,
      ).toBe(true);
    }
  });
});

type Send = (channel: string, payload: unknown) => Promise<import('../../src/shared/envelope').Envelope<unknown>>;

describe.each(['router', 'websocket'] as const)('every channel refuses malformed payloads (%s)', (transport) => {
  let t: Awaited<ReturnType<typeof withAdmin>>;
  let send: Send;
  /** A window half signed in (an admin's password given, the phone still to set up): the only kind the second-factor channels answer. */
  let sendHalf: Send;

  beforeAll(async () => {
    t = await withAdmin();
    await t.admin.ok('users/create', { username: 'boss2', displayName: 'Boss 2', role: 'admin', password: 'password-123' });
    if (transport === 'router') {
      send = (c, p) => t.admin.raw(c, p);
      const half = t.window('half signed in');
      sendHalf = (c, p) => half.raw(c, p);
    } else {
      const url = (await startTestHost(t)).url;
      const ws = await connectWs(url);
      const login = await ws.invoke('auth/login', { username: 'boss', secret: 'correct horse' });
      expect(login).toMatchObject({ ok: true });
      await passSecondFactor(t, ws.invoke, (login as { value: SessionInfo }).value);
      send = (c, p) => ws.invoke(c, p);
      const half = await connectWs(url);
      sendHalf = (c, p) => half.invoke(c, p);
    }
    expect(await sendHalf('auth/login', { username: 'boss2', secret: 'password-123' })).toMatchObject({
      ok: true,
      value: { secondFactor: { stage: 'enrol' } },
    });
  });
  afterAll(releaseAll); // what beforeAll opened serves every test of this block

  it.each(plan.map((p) => [p.channel, p] as const))('%s', async (_c, p) => {
    const before = snapshotDatabase(t.station);
    const halfSignedIn = specs[p.channel].access === 'second-factor';
    const via = halfSignedIn ? sendHalf : send;
    for (const c of p.cases) {
      const r = await via(p.channel, c.payload);
      expect(r.ok, `${p.channel} accepted ${c.label}`).toBe(false);
      if (!r.ok) {
        expect(r.error.code, `${p.channel} / ${c.label}: ${r.error.message}`).toBe('invalid');
        expect(r.error.message).toMatch(/^Invalid request — .+/);
        expect(r.error.issues?.length).toBeGreaterThan(0);
      }
    }
    expect(snapshotDatabase(t.station)).toBe(before);
    const status = await via('session/status', {});
    expect(status).toMatchObject({
      ok: true,
      value: halfSignedIn ? { user: null, secondFactor: { stage: 'enrol', username: 'boss2' } } : { user: { username: 'boss' }, locked: false },
    });
  });
});
