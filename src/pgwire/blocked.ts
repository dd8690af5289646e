/**
 * Asking PostgreSQL, over a side connection of its own, whether backends are blocked: a step that was
 * released but waits for a lock another session holds will not answer until that session moves, so a
 * scheduler must count it as settled, not as still running.
 *
 * The rule is the one PostgreSQL's isolation tester uses (`pg_isolation_test_session_is_blocked` in
 * `src/backend/utils/adt/waitfuncs.c`): a backend is blocked when one of the backends it waits for on a
 * heavyweight lock (`pg_blocking_pids`) is among the sessions under test, or when it waits for a safe
 * snapshot (`pg_safe_snapshot_blocking_pids`, SERIALIZABLE READ ONLY DEFERRABLE). Waits on sessions
 * outside the test (autovacuum, whatbreaks' own connections) are reported in `blockedBy` but do not
 * count, as there: they end on their own. That function is undocumented and "may change in future
 * releases", so the probe uses the two documented functions it is built on.
 *
 * ```ts
 * const probe = await BlockedProbe.connect(database.url);   // directly, not through the proxy
 * const states = await probe.check([pidA, pidB]);           // among = the same pids by default
 * states.get(pidB)?.blocked                                 // true: B waits for a lock A holds
 * ```
 */
import pg from 'pg';
import { WhatbreaksError } from '../errors.js';

export interface BlockedState {
  readonly pid: number;
  /** Waits for a lock held by one of `among`, or for a safe snapshot. */
  readonly blocked: boolean;
  /** Every backend it waits for on a heavyweight lock (`pg_blocking_pids`), among or not. */
  readonly blockedBy: readonly number[];
  /** Backends it waits for to get a safe snapshot (`pg_safe_snapshot_blocking_pids`). */
  readonly snapshotBlockedBy: readonly number[];
  /** `pg_stat_activity.wait_event_type` / `wait_event` (`Lock` / `transactionid` …), for reports. */
  readonly waitEventType?: string;
  readonly waitEvent?: string;
  /** `pg_stat_activity.state` (`active`, `idle in transaction` …); absent when the backend is gone. */
  readonly state?: string;
}

const QUERY = `
SELECT p.pid,
       pg_blocking_pids(p.pid) AS blocked_by,
       pg_safe_snapshot_blocking_pids(p.pid) AS snapshot_blocked_by,
       a.wait_event_type, a.wait_event, a.state
FROM unnest($1::int[]) AS p(pid)
LEFT JOIN pg_stat_activity a ON a.pid = p.pid`;

export class BlockedProbe implements AsyncDisposable {
  private constructor(private readonly client: pg.Client) {}

  /**
   * Open the side connection (`url`: a connection string that reaches PostgreSQL directly).
   * @throws WhatbreaksError `DATABASE_FAILED` when it cannot connect.
   */
  static async connect(url: string): Promise<BlockedProbe> {
    const client = new pg.Client({ connectionString: url, application_name: 'whatbreaks-blocked-probe' });
    client.on('error', () => {}); // a server gone mid-run surfaces on the next check
    try {
      await client.connect();
    } catch (error) {
      throw new WhatbreaksError(
        'DATABASE_FAILED',
        `cannot open the blocked-backend probe's connection: ${(error as Error).message}`,
        undefined,
        { cause: error },
      );
    }
    return new BlockedProbe(client);
  }

  /**
   * The state of each backend in `pids`; `among` (default: `pids`) are the sessions whose locks count
   * (isolationtester's "interesting pids"). One round trip.
   * @throws WhatbreaksError `DATABASE_FAILED` when the query fails.
   */
  async check(pids: readonly number[], among: readonly number[] = pids): Promise<Map<number, BlockedState>> {
    const out = new Map<number, BlockedState>();
    if (pids.length === 0) return out;
    let rows: {
      pid: number;
      blocked_by: number[];
      snapshot_blocked_by: number[];
      wait_event_type: string | null;
      wait_event: string | null;
      state: string | null;
    }[];
    try {
      rows = (await this.client.query(QUERY, [pids])).rows;
    } catch (error) {
      throw new WhatbreaksError(
        'DATABASE_FAILED',
        `the blocked-backend probe failed: ${(error as Error).message}`,
        undefined,
        { cause: error },
      );
    }
    const interesting = new Set(among);
    for (const r of rows) {
      const blockedBy = r.blocked_by ?? [];
      const snapshotBlockedBy = r.snapshot_blocked_by ?? [];
      out.set(r.pid, {
        pid: r.pid,
        blocked: blockedBy.some((p) => interesting.has(p)) || snapshotBlockedBy.length > 0,
        blockedBy,
        snapshotBlockedBy,
        ...(r.wait_event_type ? { waitEventType: r.wait_event_type } : {}),
        ...(r.wait_event ? { waitEvent: r.wait_event } : {}),
        ...(r.state ? { state: r.state } : {}),
      });
    }
    return out;
  }

  /** Whether backend `pid` is blocked by one of `among` (see `check`). */
  async isBlocked(pid: number, among: readonly number[]): Promise<boolean> {
    return (await this.check([pid], among)).get(pid)?.blocked ?? false;
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => undefined);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
