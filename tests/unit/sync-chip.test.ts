import { describe, expect, it } from 'vitest';
import type { SiteStatus } from '../../src/shared/contract/site';
import { upstreamLabel, type UpstreamStatus } from '../../src/shared/contract/sync';
import { syncChip } from '../../src/renderer/src/lib/sync-chip';

const upstream = (upstream: string, over: Partial<UpstreamStatus> = {}): UpstreamStatus => ({
  upstream,
  online: true,
  queued: 0,
  stuck: 0,
  lastSuccessAt: null,
  lastError: null,
  restingUntil: null,
  ...over,
});

const member = (over: Partial<SiteStatus> = {}): SiteStatus => ({
  member: { url: 'http://127.0.0.1:5790', stationName: 'Dock 1', joinedAt: 0, joinedBy: 'chief' },
  connected: true,
  problem: null,
  lastSeq: 0,
  lastAppliedAt: null,
  waiting: 0,
  openConflicts: 0,
  ...over,
});

const standalone: SiteStatus = { ...member(), member: null, connected: false };
const hub = (over: Partial<UpstreamStatus> = {}) => upstream('bags', over);
/** The site hub is the station's bags upstream. */
const HUB = upstreamLabel('bags');

describe('the sync chip', () => {
  it('is absent with no upstream and no site', () => {
    expect(syncChip([], null)).toBeNull();
    expect(syncChip([], standalone)).toBeNull();
  });

  it('says online in green when every upstream is online and the site has nothing open', () => {
    expect(syncChip([hub()], member())).toEqual({ text: 'Sync: online', ok: true, title: '' });
    expect(syncChip([hub()], standalone)).toEqual({ text: 'Sync: online', ok: true, title: '' });
  });

  it('counts open conflicts with the site in red, with where to resolve them in the tooltip', () => {
    const chip = syncChip([hub()], member({ openConflicts: 2 }))!;
    expect(chip.text).toBe('Sync: online · 2 conflicts');
    expect(chip.ok).toBe(false);
    expect(chip.title).toContain('resolve on the Scan screen');
    expect(syncChip([hub()], member({ openConflicts: 1 }))!.text).toBe('Sync: online · 1 conflict');
  });

  it('names the site hub offline once when the feed is down, whether or not sending also fails', () => {
    const feedDown = syncChip([hub()], member({ connected: false, problem: 'connect ECONNREFUSED' }))!;
    expect(feedDown.text).toBe(`Sync: offline (${HUB})`);
    expect(feedDown.title).toBe(`${HUB}: connect ECONNREFUSED`);
    const bothDown = syncChip([hub({ online: false, lastError: 'refused', queued: 3 })], member({ connected: false }))!;
    expect(bothDown.text).toBe(`Sync: offline (${HUB}) · 3 waiting`);
    expect(bothDown.ok).toBe(false);
  });

  it('keeps the waiting and stuck counts and names at most two offline upstreams', () => {
    const ups = [hub({ online: false, queued: 2 }), upstream('erp-DD', { online: false, stuck: 1 }), upstream('leaftrade', { online: false })];
    expect(syncChip(ups, null)!.text).toBe('Sync: offline (3 upstreams) · 2 waiting · 1 stuck');
    expect(syncChip(ups.slice(0, 2), null)!.text).toBe(`Sync: offline (${HUB}, ERP DD) · 2 waiting · 1 stuck`);
  });
});
