import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { durationMs } from '../duration.js';
import { type Fault, type FaultCheckContext, type FaultContext, faultConfig } from '../fault.js';

/**
 * `kill-replica`: SIGKILL replica `replica` (its whole process group) — a crash, an OOM kill, a node
 * lost (Jepsen's `kill` nemesis). No grace, no shutdown hooks: in-flight requests are reset and a task
 * it was running stops mid-way. With `restartAfter`, the replica is started again (same port, same
 * log file, appended) that long after the kill and the fault ends once it is healthy; without it, the
 * replica stays down for the rest of the trial (every replica is back up before the next trial).
 *
 * Instead of a fixed `replica`, `replicaQuery` chooses it when the fault fires: from `at`, the query
 * runs on the run's database every `REPLICA_QUERY_POLL_MS` until it returns a row, and the replica named
 * by its first column (`INSTANCE_ID`) is killed — the one holding a lock or a claim right now, as Jepsen
 * kills the primary. Which replica that is depends on timing (the one whose timer fires first wins
 * every claim), so a fixed `replica: 1` may be the idle one and the failover path never runs. No row
 * within `waitMs`: nothing is killed and the fault is recorded as failed. The record's window starts at
 * the kill, not at `at`.
 *
 * ```yaml
 * faults:
 *   - { type: kill-replica, at: 5s, replica: 1 }
 *   - { type: kill-replica, at: 2s, replica: 0, restartAfter: 3s }
 *   - type: kill-replica
 *     at: 5s
 *     replicaQuery: SELECT instance FROM task_claims WHERE done_at IS NULL
 * ```
 */
export const config = faultConfig('kill-replica', {
  replica: z
    .int()
    .nonnegative()
    .optional()
    .meta({ description: '0-based replica number (`INSTANCE_ID`). Give this or `replicaQuery`.' }),
  replicaQuery: z.string().min(1).optional().meta({
    description:
      "SQL whose first row's first column is the replica number to kill, run from `at` until it returns a row.",
  }),
  waitMs: durationMs.optional().meta({
    description:
      'With `replicaQuery`: how long to keep asking before giving up (the fault fails), ms; default 3 s.',
  }),
  signal: z.enum(['SIGKILL', 'SIGTERM', 'SIGINT', 'SIGSTOP']).default('SIGKILL'),
  restartAfter: durationMs
    .optional()
    .meta({ description: 'Start it again this long after the kill; default: stays down. Same as `for`.' }),
}).meta({
  description:
    "`kill-replica`: SIGKILL replica `replica` (its whole process group) — a crash, an OOM kill, a node lost (Jepsen's `kill` nemesis). No grace, no shutdown hooks: in-flight requests are reset and a task it was running stops mid-way. With `restartAfter`, the replica is started again (same port, same log file, appended) that long after the kill and the fault ends once it is healthy; without it, the replica stays down for the rest of the trial (every replica is back up before the next trial).",
  yaml: 'faults:\n  - { type: kill-replica, at: 5s, replica: 1 }\n  - { type: kill-replica, at: 2s, replica: 0, restartAfter: 3s }\n  - type: kill-replica\n    at: 5s\n    replicaQuery: SELECT instance FROM task_claims WHERE done_at IS NULL',
});
export type KillReplicaConfig = z.output<typeof config>;

/** How often `replicaQuery` runs while no replica matches, ms. */
export const REPLICA_QUERY_POLL_MS = 20;
const DEFAULT_WAIT_MS = 3_000;

/** The replica `cfg.replicaQuery` names, polling until a row comes back or `waitMs` ran out. */
async function chooseReplica(cfg: KillReplicaConfig, ctx: FaultContext): Promise<number> {
  const query = cfg.replicaQuery!;
  const waitMs = cfg.waitMs ?? DEFAULT_WAIT_MS;
  const started = ctx.clock();
  for (;;) {
    const rows = await ctx.env.database.query<Record<string, unknown>>(query);
    const first = rows[0] ? Object.values(rows[0])[0] : undefined;
    if (first !== undefined && first !== null) {
      const id = Number(first);
      if (!Number.isInteger(id) || id < 0 || id >= ctx.env.replicas.length)
        throw new Error(
          `replicaQuery returned ${JSON.stringify(first)}, not a replica number (0..${ctx.env.replicas.length - 1})`,
        );
      ctx.note(`chosen by replicaQuery after ${(ctx.clock() - started).toFixed(0)} ms`);
      return id;
    }
    if (ctx.clock() - started >= waitMs)
      throw new Error(`replicaQuery returned no row within ${waitMs} ms: nothing killed`);
    await sleep(REPLICA_QUERY_POLL_MS, undefined, { signal: ctx.signal });
  }
}

export function create(cfg: KillReplicaConfig): Fault {
  const forMs = cfg.restartAfter ?? cfg.for;
  return {
    type: 'kill-replica',
    target: cfg.replica !== undefined ? `replica ${cfg.replica}` : 'replica (replicaQuery)',
    persistent: forMs === undefined,
    forMs,
    async apply(ctx) {
      let replica = cfg.replica;
      if (replica === undefined) {
        replica = await chooseReplica(cfg, ctx);
        ctx.startsNow(`replica ${replica}`);
      }
      const chosen = replica;
      const { pid } = ctx.env.killReplica(replica, cfg.signal);
      ctx.note(`${cfg.signal} pid ${pid ?? '?'}`);
      if (forMs === undefined) return undefined;
      return async () => {
        const started = await ctx.env.restartReplica(chosen);
        ctx.note(`restarted as pid ${started.pid ?? '?'}, healthy at ${ctx.clock().toFixed(0)} ms`);
      };
    },
  };
}

/** A replica chosen at run time may be any of them: `replica:*` overlaps every `replica:<n>`. */
export function resources(cfg: KillReplicaConfig): string[] {
  return [`replica:${cfg.replica ?? '*'}`];
}

export function windowMs(cfg: KillReplicaConfig): number {
  const waitMs = cfg.replica === undefined ? (cfg.waitMs ?? DEFAULT_WAIT_MS) : 0;
  return waitMs + (cfg.restartAfter ?? cfg.for ?? Number.POSITIVE_INFINITY);
}

export function check(cfg: KillReplicaConfig, ctx: FaultCheckContext): string[] {
  const out: string[] = [];
  if ((cfg.replica === undefined) === (cfg.replicaQuery === undefined))
    out.push('give replica (a number) or replicaQuery (SQL naming one), exactly one of them');
  if (cfg.replica !== undefined && cfg.replica >= ctx.replicas)
    out.push(
      `replica ${cfg.replica} does not exist: the target has ${ctx.replicas} (0..${ctx.replicas - 1})`,
    );
  if (cfg.waitMs !== undefined && cfg.replicaQuery === undefined)
    out.push('waitMs only applies with replicaQuery');
  if (cfg.restartAfter !== undefined && cfg.for !== undefined)
    out.push('give restartAfter or for, not both (they mean the same here)');
  return out;
}
