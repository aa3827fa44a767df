import { afterEach, describe, expect, it } from 'vitest';
import { contract } from '../../src/shared/contract';
import { EXPORT_KINDS, EXPORT_ROLES, exportKindsFor, mayExport, type ExportKind } from '../../src/shared/contract/exports';
import type { JobView } from '../../src/shared/contract/jobs';
import type { Role } from '../../src/shared/roles';
import { releaseAll } from '../support/cleanup';
import { waitForJob } from '../support/imports';
import { signInAs, withAdmin, type TestWindow } from '../support/station';

afterEach(releaseAll);

/** Who may export what: the rule the station must keep (audit trail: admins only, as on screen). */
const ALLOWED: Record<Role, readonly ExportKind[]> = {
  admin: ['bags', 'bills', 'audit', 'inventory', 'eta', 'verify-compare'],
  biller: ['bags', 'bills', 'inventory', 'eta'],
  dispatcher: ['inventory', 'eta', 'verify-compare'],
};

/** A station with one window per person: the starter's role, and one more person of every role. */
async function people(role: Role) {
  const t = await withAdmin();
  const starter = role === 'admin' ? t.admin : await t.signedIn(role, `${role}-starter`);
  const others: Record<Role, TestWindow> = {
    admin: await t.signedIn('admin', 'admin-other'),
    biller: await t.signedIn('biller', 'biller-other'),
    dispatcher: await t.signedIn('dispatcher', 'dispatcher-other'),
  };
  return { t, starter, others };
}

const progressOf = (w: TestWindow, jobId: number) => w.events.filter((e) => e.event === 'job/progress' && (e.data as JobView).id === jobId);

describe('the export table (shared by main and the screen)', () => {
  it('says what each role may export, as the station must keep it', () => {
    for (const role of ['admin', 'biller', 'dispatcher'] as const) expect(exportKindsFor(role)).toEqual(ALLOWED[role]);
  });

  it('refuses an unknown role, an unknown kind, and inherited names', () => {
    for (const [role, what] of [
      ['root', 'bags'],
      ['', 'bags'],
      [undefined, 'audit'],
      ['admin', 'secrets'],
      ['admin', 'constructor'],
      ['admin', '__proto__'],
      ['admin', undefined],
      [{ toString: () => 'admin' }, 'bags'],
    ] as [unknown, unknown][])
      expect(mayExport(role, what)).toBe(false);
  });

  it('the export channels admit exactly the roles that may export something', () => {
    const exporting = [...new Set(Object.values(EXPORT_ROLES).flat())].sort();
    expect([...contract['exports/start'].access].sort()).toEqual(exporting);
    expect([...contract['exports/chunk'].access].sort()).toEqual(exporting);
  });
});

describe('exports per role and kind', () => {
  for (const role of ['admin', 'biller', 'dispatcher'] as const) {
    // The inventory report needs BioTrack (tests/integration/inventory-report.test.ts); ETA reports
    // are exported with eta/export after a run (tests/integration/eta.test.ts), verification compares with
    // verify/compare-export (tests/integration/verify-reports.test.ts).
    for (const what of EXPORT_KINDS.filter((k) => k !== 'inventory' && k !== 'eta' && k !== 'verify-compare')) {
      const allowed = ALLOWED[role].includes(what);
      const title = allowed
        ? `${role} × ${what}: started; read by its owner and another admin; another biller and a dispatcher told there is no such job`
        : `${role} × ${what}: exports/start refused`;
      it(title, async () => {
        const { starter, others } = await people(role);
        const started = await starter.call('exports/start', { what, format: 'csv' });
        if (!allowed) {
          expect(started).toMatchObject({ ok: false, error: { code: 'forbidden' } });
          return;
        }
        if (!started.ok) throw new Error(`exports/start refused: ${started.error.message}`);
        const jobId = started.value.id;
        expect((await waitForJob(starter, jobId)).status).toBe('succeeded');

        expect((await starter.call('exports/chunk', { jobId, offset: 0 })).ok).toBe(true);
        expect((await others.admin.call('exports/chunk', { jobId, offset: 0 })).ok).toBe(true);
        // Someone else's job answers exactly as a job that does not exist: no existence oracle.
        if (role !== 'biller') {
          expect(await others.biller.call('exports/chunk', { jobId, offset: 0 })).toEqual({
            ok: false,
            error: { code: 'not_found', message: `No job ${jobId}` },
          });
        }
        expect(await others.biller.call('exports/chunk', { jobId: jobId + 1000, offset: 0 })).toEqual({
          ok: false,
          error: { code: 'not_found', message: `No job ${jobId + 1000}` },
        });
        // Dispatchers may export the inventory report, so the channel admits them: another's job answers as a missing one.
        expect(await others.dispatcher.call('exports/chunk', { jobId, offset: 0 })).toEqual({
          ok: false,
          error: { code: 'not_found', message: `No job ${jobId}` },
        });
      });
    }
  }

  it('a biller asking for the audit trail is told in words that only an admin may export it', async () => {
    const { starter } = await people('biller');
    expect(await starter.call('exports/start', { what: 'audit', format: 'xlsx' })).toEqual({
      ok: false,
      error: { code: 'forbidden', message: 'Only Admin may export the audit trail (you are Biller)' },
    });
  });

  it('a biller cannot read another biller’s export, nor get, nor cancel that job', async () => {
    const t = await withAdmin();
    const alice = await t.signedIn('biller', 'alice');
    const bob = await t.signedIn('biller', 'bob');
    const job = await alice.ok('exports/start', { what: 'bills', format: 'csv' });
    expect((await waitForJob(alice, job.id)).status).toBe('succeeded');
    const none = { ok: false, error: { code: 'not_found', message: `No job ${job.id}` } };
    expect(await bob.call('exports/chunk', { jobId: job.id, offset: 0 })).toEqual(none);
    expect(await bob.call('jobs/get', { jobId: job.id })).toEqual(none);
    expect(await bob.call('jobs/cancel', { jobId: job.id })).toEqual(none);
    expect(await t.admin.call('jobs/get', { jobId: job.id })).toMatchObject({ ok: true, value: { id: job.id } });
  });

  it('an admin made biller can no longer read the audit trail export they made as admin', async () => {
    const t = await withAdmin();
    const ann = await t.signedIn('admin', 'ann');
    const job = await ann.ok('exports/start', { what: 'audit', format: 'csv' });
    expect((await waitForJob(ann, job.id)).status).toBe('succeeded');
    const annId = ann.session.userId!;
    await t.admin.ok('users/update', { id: annId, role: 'biller' });
    expect(await ann.call('exports/chunk', { jobId: job.id, offset: 0 })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
  });
});

describe('job progress goes only to the job’s owner and admins', () => {
  for (const role of ['admin', 'biller'] as const) {
    it(`export started by ${role === 'admin' ? 'an' : 'a'} ${role}: progress reaches its owner and every admin, no other biller or dispatcher`, async () => {
      const { t, starter, others } = await people(role);
      const ownerSecondWindow = t.window('owner second window');
      await signInAs(t, ownerSecondWindow, role === 'admin' ? 'boss' : `${role}-starter`, role === 'admin' ? 'correct horse' : 'password-123');
      const job = await starter.ok('exports/start', { what: 'bills', format: 'csv' });
      // The last event (the end) goes to every allowed window in the same loop as the owner's.
      expect((await waitForJob(starter, job.id)).status).toBe('succeeded');
      expect(progressOf(starter, job.id).length).toBeGreaterThan(0);
      expect(progressOf(ownerSecondWindow, job.id).length).toBeGreaterThan(0);
      expect(progressOf(others.admin, job.id).length).toBeGreaterThan(0);
      if (role === 'biller') expect(progressOf(t.admin, job.id).length).toBeGreaterThan(0);
      expect(progressOf(others.biller, job.id)).toEqual([]);
      expect(progressOf(others.dispatcher, job.id)).toEqual([]);
    });
  }
});
