import type pg from 'pg';
import {
  describeIssues,
  HUB_OP_PAYLOADS,
  hubOpSchema,
  newerVersion,
  type HubOpName,
  type HubOpPayload,
  type HubOpResult,
  type HubWinner,
} from '../shared/hub';
import type { StationIdentity } from './enrolment';
import { appendFeed } from './feed-append';

interface OpContext {
  client: pg.PoolClient;
  station: StationIdentity;
  opId: string;
  user: string;
  at: number;
}

/** What a rule decided: applied (with what goes on the feed), applied as a no-op, or refused. */
type RuleOutcome =
  | { status: 'ok'; feedPayload: unknown | null; message?: string }
  | { status: 'conflict'; message: string; winner?: HubWinner; winners?: HubWinner[]; feedPayload?: unknown };

/** A refusal found half-way through an op: everything the op did is rolled back to its savepoint. */
class RuleConflict extends Error {
  constructor(readonly outcome: Extract<RuleOutcome, { status: 'conflict' }>) {
    super(outcome.message);
  }
}

/**
 * Applies a station's batch in the order given, each op in its own transaction, and answers one
 * result per op in that order. One bad op answers `error` alone; the rest of the batch goes on.
 */
export async function applyOps(pool: pg.Pool, station: StationIdentity, ops: unknown[]): Promise<HubOpResult[]> {
  const results: HubOpResult[] = [];
  for (const raw of ops) results.push(await applyOne(pool, station, raw));
  return results;
}

async function applyOne(pool: pg.Pool, station: StationIdentity, raw: unknown): Promise<HubOpResult> {
  const rawId = typeof raw === 'object' && raw !== null && typeof (raw as { opId?: unknown }).opId === 'string' ? (raw as { opId: string }).opId : '';
  const parsed = hubOpSchema.safeParse(raw);
  if (!parsed.success) return { opId: rawId, status: 'error', message: `Not an op: ${describeIssues(parsed.error)}` };
  const { opId, op } = parsed.data;
  if (!(op in HUB_OP_PAYLOADS)) {
    return { opId, status: 'error', message: `Unknown op “${op}”: this hub applies ${Object.keys(HUB_OP_PAYLOADS).join(', ')}` };
  }
  const name = op as HubOpName;
  const payload = HUB_OP_PAYLOADS[name].safeParse(parsed.data.payload);
  if (!payload.success) return { opId, status: 'error', message: `${name} payload refused: ${describeIssues(payload.error)}` };
  const user = parsed.data.user ?? payload.data.by;
  const at = parsed.data.at ?? payload.data.at;

  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    try {
      // The op id is claimed first. A second hub given the same op at the same moment waits here for
      // the first one's transaction, then finds the row and answers the first answer again.
      const claim = await client.query(
        `INSERT INTO received_ops (op_id, station_id, op, status, answer) VALUES ($1, $2, $3, 'pending', '{}') ON CONFLICT (op_id) DO NOTHING RETURNING op_id`,
        [opId, station.id, name],
      );
      if (claim.rowCount === 0) {
        await client.query('ROLLBACK');
        return await earlierAnswer(client, station, opId);
      }
      await client.query('SAVEPOINT op');
      const ctx: OpContext = { client, station, opId, user, at };
      let outcome: RuleOutcome;
      try {
        outcome = await RULES[name](ctx, payload.data as never);
      } catch (error) {
        if (!(error instanceof RuleConflict)) throw error;
        await client.query('ROLLBACK TO SAVEPOINT op');
        outcome = error.outcome;
      }
      const result: HubOpResult = { opId, status: outcome.status };
      if (outcome.message) result.message = outcome.message;
      if (outcome.status === 'conflict') {
        if (outcome.winner) result.winner = outcome.winner;
        if (outcome.winners) result.winners = outcome.winners;
      }
      if (outcome.feedPayload !== undefined && outcome.feedPayload !== null) {
        // The answer is kept by the statement that takes the feed's lock, so COMMIT comes next.
        const entry = { opId, op: name, payload: outcome.feedPayload, stationId: station.id, user, at };
        result.seq = await appendFeed(client, entry, { opId, status: result.status, answer: result });
      } else {
        await client.query('UPDATE received_ops SET status = $2, answer = $3 WHERE op_id = $1', [opId, result.status, JSON.stringify(result)]);
      }
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    }
  } catch (error) {
    // A refusal by PostgreSQL (a deadlock, say) leaves the connection fine; a lost connection (no
    // SQLSTATE, a socket error, class 08 or 57: shutdown) is dropped rather than pooled again.
    const code = (error as { code?: unknown }).code;
    if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code) || /^(08|57)/.test(code)) broken = error as Error;
    // Nothing was kept: the station sends the op again later and it is applied then.
    return { opId, status: 'error', message: `The hub could not apply this op now (${(error as Error).message}); it will be taken when sent again` };
  } finally {
    client.release(broken);
  }
}

async function earlierAnswer(client: pg.PoolClient, station: StationIdentity, opId: string): Promise<HubOpResult> {
  const { rows } = await client.query<{ station_id: number; answer: HubOpResult }>('SELECT station_id, answer FROM received_ops WHERE op_id = $1', [
    opId,
  ]);
  const row = rows[0];
  if (!row) return { opId, status: 'error', message: 'This op id is being applied by another request: send it again' };
  if (row.station_id !== station.id)
    return { opId, status: 'error', message: 'This op id was already used by another station: every op needs its own id' };
  return { ...row.answer, duplicate: true };
}

/** Creates the bags the site does not know yet (the first creator's kind stays), in one statement. */
async function ensureBags(ctx: OpContext, bags: [code: string, kind: 'parent' | 'child'][]): Promise<void> {
  await ctx.client.query(
    `INSERT INTO bags (code, kind, station_id, user_name, at) SELECT code, kind, $3, $4, $5 FROM unnest($1::text[], $2::text[]) AS t(code, kind)
     ON CONFLICT (code) DO NOTHING`,
    [bags.map(([c]) => c), bags.map(([, k]) => k), ctx.station.id, ctx.user, ctx.at],
  );
}
const ensureBag = (ctx: OpContext, code: string, kind: 'parent' | 'child') => ensureBags(ctx, [[code, kind]]);

/**
 * The finalized bill a parent is on, with its station. The parent's row is share-locked first, so a
 * bill being finalized (which holds it FOR UPDATE) is waited for; the bill is then read by a second
 * statement, whose fresh snapshot sees that bill once it committed (one statement would not: its
 * snapshot predates the wait).
 */
async function finalizedBillOf(ctx: OpContext, parent: string): Promise<{ number: string; station: string } | null> {
  await ctx.client.query('SELECT 1 FROM bags WHERE code = $1 FOR SHARE', [parent]);
  const { rows } = await ctx.client.query<{ bill_number: string; name: string }>(
    'SELECT p.bill_number, s.name FROM bill_parents p JOIN stations s ON s.id = p.station_id WHERE p.parent_code = $1',
    [parent],
  );
  return rows[0] ? { number: rows[0].bill_number, station: rows[0].name } : null;
}

/** Who holds a child now, or null when it is on no parent. */
async function linkOf(ctx: OpContext, child: string, lock = false): Promise<HubWinner | null> {
  const { rows } = await ctx.client.query<{ parent_code: string; name: string; user_name: string; at: string; seq: string | null }>(
    `SELECT l.parent_code, s.name, l.user_name, l.at, f.seq FROM bag_links l JOIN stations s ON s.id = l.station_id
     LEFT JOIN feed f ON f.op_id = l.op_id WHERE l.child_code = $1${lock ? ' FOR UPDATE OF l' : ''}`,
    [child],
  );
  const r = rows[0];
  return r
    ? { child, parent: r.parent_code, station: r.name, user: r.user_name, at: Number(r.at), seq: r.seq === null ? null : Number(r.seq) }
    : null;
}

const when = (at: number) => new Date(at).toISOString();
// The winner's time is in the answer's `winner.at`; stations show it in their own time zone.
const heldBy = (w: HubWinner) => `${w.child} is on ${w.parent} (linked at ${w.station} by ${w.user})`;

/**
 * Links a child unless the site has it on another parent. The rule is the primary key on
 * bag_links.child_code: the insert either takes the child or does nothing, and two hubs linking the
 * same child at once are ordered by PostgreSQL, the later one waiting for the earlier to commit.
 */
async function linkChild(ctx: OpContext, child: string, parent: string): Promise<{ linked: true } | { linked: false; holder: HubWinner }> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const inserted = await ctx.client.query(
      `INSERT INTO bag_links (child_code, parent_code, station_id, user_name, at, op_id) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (child_code) DO NOTHING RETURNING child_code`,
      [child, parent, ctx.station.id, ctx.user, ctx.at, ctx.opId],
    );
    if (inserted.rowCount === 1) return { linked: true };
    const holder = await linkOf(ctx, child);
    if (holder) return { linked: false, holder };
    // The holder was unlinked between the insert and the look-up: try the insert again.
  }
  throw new Error(`${child}'s link kept changing while it was applied`);
}

/** The version the site holds of a row saved last-writer-wins: when, at which station, by whom. */
interface SiteVersion {
  updated_at: string;
  name: string;
  user_name: string;
}

/**
 * Last writer wins for one row (a person, a rack): the newer version (updatedAt, then the greater
 * station name, as stations compare them) is saved and goes on the feed; an older one changes nothing
 * and answers ok naming the site's version. `current` locks the row, which orders two hubs saving
 * it; a first save races on the primary key, and the loser looks again.
 */
async function saveNewest(
  ctx: OpContext,
  p: { updatedAt: number },
  what: string,
  io: { current(): Promise<SiteVersion | undefined>; insert(): Promise<boolean>; update(): Promise<void> },
): Promise<RuleOutcome> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const current = await io.current();
    if (!current) {
      if (await io.insert()) return { status: 'ok', feedPayload: p };
      continue; // saved by another hub meanwhile: compare with that version
    }
    const site = { updatedAt: Number(current.updated_at), station: current.name };
    if (!newerVersion({ updatedAt: p.updatedAt, station: ctx.station.name }, site)) {
      return {
        status: 'ok',
        feedPayload: null,
        message: `A newer version of ${what} is on the site (saved at ${site.station} by ${current.user_name}, ${when(site.updatedAt)}): this one changed nothing`,
      };
    }
    await io.update();
    return { status: 'ok', feedPayload: p };
  }
  throw new Error(`${what} kept changing while it was saved`);
}

type Rules = { [N in HubOpName]: (ctx: OpContext, payload: HubOpPayload<N>) => Promise<RuleOutcome> };

const RULES: Rules = {
  async 'bag_created@1'(ctx, p) {
    const created = await ctx.client.query(
      'INSERT INTO bags (code, kind, station_id, user_name, at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (code) DO NOTHING RETURNING code',
      [p.code, p.kind, ctx.station.id, ctx.user, ctx.at],
    );
    if (created.rowCount === 1) return { status: 'ok', feedPayload: p };
    const { rows } = await ctx.client.query<{ kind: string; name: string; user_name: string; at: string }>(
      'SELECT b.kind, s.name, b.user_name, b.at FROM bags b JOIN stations s ON s.id = b.station_id WHERE b.code = $1',
      [p.code],
    );
    const first = rows[0];
    if (!first || first.kind === p.kind) return { status: 'ok', feedPayload: null, message: `${p.code} was already known to the site` };
    const winner: HubWinner = { station: first.name, user: first.user_name, at: Number(first.at), seq: null };
    return {
      status: 'conflict',
      winner,
      message: `${p.code} is already a ${first.kind} bag site-wide (made at ${first.name} by ${first.user_name}, ${when(winner.at)})`,
    };
  },

  async 'link_child@1'(ctx, p) {
    if (p.child === p.parent) throw new RuleConflict({ status: 'conflict', message: `${p.child} cannot be its own parent` });
    await ensureBags(ctx, [
      [p.parent, 'parent'],
      [p.child, 'child'],
    ]);
    const bill = await finalizedBillOf(ctx, p.parent);
    if (bill) {
      return { status: 'conflict', message: `${p.parent} is on finalized bill ${bill.number} (${bill.station}): it takes no more bags` };
    }
    const link = await linkChild(ctx, p.child, p.parent);
    if (link.linked) return { status: 'ok', feedPayload: p };
    if (link.holder.parent === p.parent) {
      return {
        status: 'ok',
        feedPayload: null,
        message: `${p.child} was already on ${p.parent} (linked at ${link.holder.station} by ${link.holder.user})`,
      };
    }
    return { status: 'conflict', winner: link.holder, message: heldBy(link.holder) };
  },

  async 'unlink_child@1'(ctx, p) {
    const link = await linkOf(ctx, p.child, true);
    if (!link) return { status: 'ok', feedPayload: null, message: `${p.child} was on no parent site-wide: nothing to undo` };
    if (link.parent !== p.parent) return { status: 'conflict', winner: link, message: `${heldBy(link)}, not on ${p.parent}: nothing was undone` };
    if (link.user !== ctx.user) {
      return { status: 'conflict', winner: link, message: `Only ${link.user}, who linked it, can undo ${p.child} → ${p.parent}: nothing was undone` };
    }
    const bill = await finalizedBillOf(ctx, p.parent);
    if (bill) return { status: 'conflict', message: `${p.parent} is on finalized bill ${bill.number} (${bill.station}): the link cannot be undone` };
    await ctx.client.query('DELETE FROM bag_links WHERE child_code = $1', [p.child]);
    // The station created the child with this scan: it goes too, unless it has become a parent since.
    if (p.deleteChild) await ctx.client.query(`DELETE FROM bags WHERE code = $1 AND kind = 'child'`, [p.child]);
    return { status: 'ok', feedPayload: p };
  },

  /**
   * A dispatcher moves a child from the parent the site has it on to another (resolving a conflict
   * at their station): only from that parent — if the child moved again meanwhile, the move is
   * refused naming where it is now — and never off or onto a finalized bill.
   */
  async 'move_child@1'(ctx, p) {
    if (p.child === p.to) throw new RuleConflict({ status: 'conflict', message: `${p.child} cannot be its own parent` });
    const link = await linkOf(ctx, p.child, true);
    if (!link) return { status: 'conflict', message: `${p.child} is on no parent site-wide now: scan it onto ${p.to} instead` };
    if (link.parent === p.to) return { status: 'ok', feedPayload: null, message: `${p.child} was already on ${p.to}` };
    if (link.parent !== p.from) return { status: 'conflict', winner: link, message: `${heldBy(link)}, no longer on ${p.from}: it was not moved` };
    for (const parent of [p.from, p.to]) {
      const bill = await finalizedBillOf(ctx, parent);
      if (bill) return { status: 'conflict', message: `${parent} is on finalized bill ${bill.number} (${bill.station}): ${p.child} was not moved` };
    }
    await ensureBag(ctx, p.to, 'parent');
    const kind = await ctx.client.query<{ kind: string }>('SELECT kind FROM bags WHERE code = $1', [p.to]);
    if (kind.rows[0]?.kind !== 'parent') return { status: 'conflict', message: `${p.to} is a child bag site-wide: ${p.child} cannot go inside it` };
    await ctx.client.query('UPDATE bag_links SET parent_code = $2, station_id = $3, user_name = $4, at = $5, op_id = $6 WHERE child_code = $1', [
      p.child,
      p.to,
      ctx.station.id,
      ctx.user,
      ctx.at,
      ctx.opId,
    ]);
    return { status: 'ok', feedPayload: p };
  },

  async 'bag_deleted@1'(ctx, p) {
    const bag = await ctx.client.query<{ kind: string }>('SELECT kind FROM bags WHERE code = $1 FOR UPDATE', [p.code]);
    if (bag.rowCount === 0) return { status: 'ok', feedPayload: null, message: `${p.code} was not known to the site: nothing to delete` };
    const holder = await linkOf(ctx, p.code);
    for (const parent of [p.code, holder?.parent].filter((c): c is string => !!c)) {
      const bill = await finalizedBillOf(ctx, parent);
      if (bill) {
        const what = parent === p.code ? p.code : `${p.code}'s parent ${parent}`;
        return { status: 'conflict', message: `${what} is on finalized bill ${bill.number} (${bill.station}): it cannot be deleted` };
      }
    }
    await ctx.client.query('DELETE FROM bags WHERE code = $1', [p.code]); // its links cascade
    return { status: 'ok', feedPayload: p };
  },

  /**
   * An import's links (up to 10,000) are applied set-wise in a few statements: the bags made, the
   * parents share-locked (in code order, as bills lock them) and those on a finalized bill refused,
   * then one insert that takes every free child — the primary key on bag_links.child_code decides,
   * as for one link. Children already on another parent are answered as the op's conflict (every
   * winner named); the feed carries only what was applied, so other stations never see a link the
   * site refused.
   */
  async 'import_links@1'(ctx, p) {
    const refused: string[] = [];
    const wanted = p.links.filter(([child, parent]) => {
      if (child !== parent) return true;
      refused.push(`${child} cannot be its own parent`);
      return false;
    });
    const parents = [...new Set(wanted.map(([, parent]) => parent))].sort();
    const children = [...new Set(wanted.map(([child]) => child))];
    const who = [ctx.station.id, ctx.user, ctx.at];
    const makeBags = `INSERT INTO bags (code, kind, station_id, user_name, at) SELECT code, $2, $3, $4, $5 FROM unnest($1::text[]) AS code ON CONFLICT (code) DO NOTHING`;
    await ctx.client.query(makeBags, [parents, 'parent', ...who]);
    await ctx.client.query(makeBags, [children, 'child', ...who]);
    // A bill being finalized holds its parents' rows FOR UPDATE: links to them wait for it, and then see it.
    await ctx.client.query('SELECT 1 FROM bags WHERE code = ANY($1) ORDER BY code FOR SHARE', [parents]);
    const billed = new Map(
      (
        await ctx.client.query<{ parent_code: string; bill_number: string; name: string }>(
          'SELECT p.parent_code, p.bill_number, s.name FROM bill_parents p JOIN stations s ON s.id = p.station_id WHERE p.parent_code = ANY($1)',
          [parents],
        )
      ).rows.map((r) => [r.parent_code, `${r.parent_code} is on finalized bill ${r.bill_number} (${r.name})`]),
    );
    const free = wanted.filter(([, parent]) => {
      const bill = billed.get(parent);
      if (bill) refused.push(bill);
      return !bill;
    });
    const inserted = await ctx.client.query<{ child_code: string; parent_code: string }>(
      `INSERT INTO bag_links (child_code, parent_code, station_id, user_name, at, op_id)
       SELECT c, p, $3, $4, $5, $6 FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS t(c, p, n) ORDER BY n
       ON CONFLICT (child_code) DO NOTHING RETURNING child_code, parent_code`,
      [free.map(([c]) => c), free.map(([, parent]) => parent), ...who, ctx.opId],
    );
    const took = new Map(inserted.rows.map((r) => [r.child_code, r.parent_code]));
    const applied: [string, string][] = [];
    const held: [string, string][] = [];
    for (const [child, parent] of free) {
      if (took.get(child) === parent) {
        applied.push([child, parent]);
        took.delete(child); // the same child twice in one file: its later rows are answered as held
      } else held.push([child, parent]);
    }
    const winners: HubWinner[] = [];
    if (held.length > 0) {
      const { rows } = await ctx.client.query<{
        child_code: string;
        parent_code: string;
        name: string;
        user_name: string;
        at: string;
        seq: string | null;
      }>(
        `SELECT l.child_code, l.parent_code, s.name, l.user_name, l.at, f.seq FROM bag_links l JOIN stations s ON s.id = l.station_id
         LEFT JOIN feed f ON f.op_id = l.op_id WHERE l.child_code = ANY($1)`,
        [held.map(([c]) => c)],
      );
      const holders = new Map(rows.map((r) => [r.child_code, r]));
      for (const [child, parent] of held) {
        const h = holders.get(child);
        if (!h) refused.push(`${child} changed while it was applied: send it again`);
        else if (h.parent_code !== parent)
          winners.push({
            child,
            parent: h.parent_code,
            station: h.name,
            user: h.user_name,
            at: Number(h.at),
            seq: h.seq === null ? null : Number(h.seq),
          });
      }
    }
    const feedPayload = applied.length > 0 ? { ...p, links: applied } : null;
    if (winners.length === 0 && refused.length === 0) return { status: 'ok', feedPayload };
    const reasons = [...winners.slice(0, 5).map(heldBy), ...refused.slice(0, 5)];
    const more = winners.length + refused.length - reasons.length;
    return {
      status: 'conflict',
      winners: winners.slice(0, 1000),
      winner: winners[0],
      feedPayload,
      message: `${applied.length} of ${p.links.length} links applied; ${winners.length + refused.length} refused: ${reasons.join('; ')}${more > 0 ? `; and ${more} more` : ''}`,
    };
  },

  /**
   * The newer version of a person wins (last writer by updatedAt, then station name). An older one
   * changes nothing and answers ok, naming the version the site has: the station that sent it gets
   * that version through the feed (it was on the feed already).
   */
  async 'user_saved@1'(ctx, p) {
    const totp = p.totp === undefined ? null : [p.totp?.secret ?? null, p.totp?.enrolledAt ?? null];
    const values = [p.username, p.displayName, p.role, p.passwordHash, p.pinHash, p.disabled, p.updatedAt, ctx.station.id, ctx.user, ctx.opId];
    return saveNewest(ctx, p, p.username, {
      current: async () =>
        (
          await ctx.client.query<SiteVersion>(
            'SELECT u.updated_at, s.name, u.user_name FROM users u JOIN stations s ON s.id = u.station_id WHERE u.username = $1 FOR UPDATE OF u',
            [p.username],
          )
        ).rows[0],
      insert: async () =>
        (
          await ctx.client.query(
            `INSERT INTO users (username, display_name, role, password_hash, pin_hash, disabled, updated_at, station_id, user_name, op_id, totp_secret, totp_enrolled_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (username) DO NOTHING RETURNING username`,
            [...values, ...(totp ?? [null, null])],
          )
        ).rowCount === 1,
      update: async () => {
        await ctx.client.query(
          `UPDATE users SET display_name = $2, role = $3, password_hash = $4, pin_hash = $5, disabled = $6, updated_at = $7, station_id = $8,
           user_name = $9, op_id = $10${totp ? ', totp_secret = $11, totp_enrolled_at = $12' : ''} WHERE username = $1`,
          [...values, ...(totp ?? [])],
        );
      },
    });
  },

  /** The newer version of a rack wins (updatedAt, then station name), as for people. */
  async 'rack_saved@1'(ctx, p) {
    const values = [p.floor, p.rackId, p.name ?? null, p.active, p.updatedAt, ctx.station.id, ctx.user, ctx.opId];
    return saveNewest(ctx, p, `rack ${p.rackId} (${p.floor})`, {
      current: async () =>
        (
          await ctx.client.query<SiteVersion>(
            'SELECT r.updated_at, s.name, r.user_name FROM racks r JOIN stations s ON s.id = r.station_id WHERE r.floor = $1 AND r.rack_id = $2 FOR UPDATE OF r',
            [p.floor, p.rackId],
          )
        ).rows[0],
      insert: async () =>
        (
          await ctx.client.query(
            `INSERT INTO racks (floor, rack_id, name, active, updated_at, station_id, user_name, op_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (floor, rack_id) DO NOTHING RETURNING rack_id`,
            values,
          )
        ).rowCount === 1,
      update: async () => {
        await ctx.client.query(
          'UPDATE racks SET name = $3, active = $4, updated_at = $5, station_id = $6, user_name = $7, op_id = $8 WHERE floor = $1 AND rack_id = $2',
          values,
        );
      },
    });
  },

  async 'bill_finalized@1'(ctx, p) {
    const bill = await ctx.client.query(
      `INSERT INTO bills (station_id, number, summary, user_name, at, op_id) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING number`,
      [ctx.station.id, p.number, JSON.stringify(p), ctx.user, ctx.at, ctx.opId],
    );
    if (bill.rowCount === 0) return { status: 'ok', feedPayload: null, message: `Bill ${p.number} of ${ctx.station.name} was already finalized` };
    for (const parent of p.parents) {
      await ensureBag(ctx, parent.code, 'parent');
      // Links to this parent wait for the bill (they share-lock the parent's row).
      await ctx.client.query('SELECT 1 FROM bags WHERE code = $1 FOR UPDATE', [parent.code]);
      const taken = await ctx.client.query(
        'INSERT INTO bill_parents (parent_code, station_id, bill_number) VALUES ($1, $2, $3) ON CONFLICT (parent_code) DO NOTHING RETURNING parent_code',
        [parent.code, ctx.station.id, p.number],
      );
      if (taken.rowCount === 0) {
        const other = await ctx.client.query<{ bill_number: string; name: string }>(
          'SELECT p.bill_number, s.name FROM bill_parents p JOIN stations s ON s.id = p.station_id WHERE p.parent_code = $1',
          [parent.code],
        );
        const o = other.rows[0];
        throw new RuleConflict({
          status: 'conflict',
          message: `${parent.code} is already on finalized bill ${o?.bill_number ?? '?'} (${o?.name ?? '?'}): bill ${p.number} was not finalized at the hub`,
        });
      }
    }
    return { status: 'ok', feedPayload: p };
  },
};
