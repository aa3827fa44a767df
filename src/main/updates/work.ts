import type Database from 'better-sqlite3';
import type { SessionRegistry } from '../auth/sessions';
import type { Presence, WorkInProgress } from './policy';

/**
 * What the install policy must not interrupt, read from the station's own records: the last
 * scan, jobs queued or running (imports, exports, reports), trip executions not ended, and
 * stock counts open under a live claim (one whose person left lets its claim run out, and then
 * holds nothing). Rows, not in-memory maps: what a restart resumes counts too.
 */
export function stationWork(sqlite: Database.Database, now: () => number): () => WorkInProgress {
  // Scans are stored in time order: the newest row is the last scan (no walk over the table).
  const lastScan = sqlite.prepare('SELECT at FROM scans ORDER BY id DESC LIMIT 1');
  const jobs = sqlite.prepare("SELECT count(*) AS n FROM jobs WHERE status IN ('queued', 'running')");
  const trips = sqlite.prepare("SELECT count(*) AS n FROM trip_executions WHERE status IN ('pending', 'processing')");
  const counts = sqlite.prepare("SELECT count(*) AS n FROM verify_sessions WHERE status = 'open' AND lapsed_at IS NULL AND lease_expires_at > ?");
  const n = (s: Database.Statement, ...args: unknown[]) => (s.get(...args) as { n: number }).n;
  return () => ({
    lastScanAt: (lastScan.get() as { at: number } | undefined)?.at ?? null,
    jobsRunning: n(jobs),
    tripExecutionsRunning: n(trips),
    openCounts: n(counts, now()),
  });
}

/** Windows with someone signed in (a window at the sign-in screen is nobody). */
export function stationPresence(sessions: SessionRegistry): () => Presence {
  return () => {
    const signedIn = sessions.all().filter((s) => s.userId !== null);
    return { signedIn: signedIn.length, locked: signedIn.filter((s) => s.locked).length };
  };
}
