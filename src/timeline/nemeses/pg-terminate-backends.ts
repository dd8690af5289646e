import { z } from 'zod';
import { TARGET_APPLICATION_PREFIX, targetApplicationName } from '../../env/types.js';
import { type Fault, type FaultCheckContext, faultConfig } from '../fault.js';

/**
 * `pg-terminate-backends`: `pg_terminate_backend` on the target's database connections — a failover,
 * a DBA's kill, a proxy restart: every open connection of the target dies at once and its pool must
 * notice and reconnect. whatbreaks' own connections are spared.
 *
 * The target's connections are recognised by `application_name`: every replica is started with
 * `PGAPPNAME=whatbreaks-target-<i>`, which libpq, node-postgres, psycopg and pgx honour. A target whose
 * driver ignores it has no connections to terminate; the record says so.
 *
 * ```yaml
 * faults:
 *   - { type: pg-terminate-backends, at: 4s }             # every replica
 *   - { type: pg-terminate-backends, at: 6s, replica: 1 } # one replica's pool
 * ```
 */
export const config = faultConfig('pg-terminate-backends', {
  replica: z
    .int()
    .nonnegative()
    .optional()
    .meta({ description: "Only this replica's connections; default every replica's." }),
}).meta({
  description:
    "`pg-terminate-backends`: `pg_terminate_backend` on the target's database connections — a failover, a DBA's kill, a proxy restart: every open connection of the target dies at once and its pool must notice and reconnect. whatbreaks' own connections are spared.",
  yaml: "faults:\n  - { type: pg-terminate-backends, at: 4s }             # every replica\n  - { type: pg-terminate-backends, at: 6s, replica: 1 } # one replica's pool",
});
export type PgTerminateBackendsConfig = z.output<typeof config>;

export function create(cfg: PgTerminateBackendsConfig): Fault {
  return {
    type: 'pg-terminate-backends',
    target: cfg.replica === undefined ? 'postgres (all replicas)' : `postgres (replica ${cfg.replica})`,
    async apply(ctx) {
      const pattern =
        cfg.replica === undefined ? `${TARGET_APPLICATION_PREFIX}%` : targetApplicationName(cfg.replica);
      const rows = await ctx.env.database.query<{ pid: number; terminated: boolean }>(
        `SELECT pid, pg_terminate_backend(pid) AS terminated FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name LIKE $1`,
        [pattern],
      );
      const n = rows.filter((r) => r.terminated).length;
      ctx.note(
        n === 0
          ? `no target connections found (application_name LIKE '${pattern}'; does the driver honour PGAPPNAME?)`
          : `terminated ${n} backend${n === 1 ? '' : 's'}`,
      );
      return undefined;
    },
  };
}

export function check(cfg: PgTerminateBackendsConfig, ctx: FaultCheckContext): string[] {
  return cfg.replica !== undefined && cfg.replica >= ctx.replicas
    ? [`replica ${cfg.replica} does not exist: the target has ${ctx.replicas} (0..${ctx.replicas - 1})`]
    : [];
}
