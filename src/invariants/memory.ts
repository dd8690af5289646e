import { z } from 'zod';
import type { Invariant, InvariantResult } from './types.js';

/**
 * `memory`: a memory ceiling per replica. Holds when every replica's peak RSS (its whole process tree,
 * sampled every 50 ms by `observe/rss-sampler.ts`) stayed at or under `ceilingMiB` and no replica was
 * killed by a signal during the trial (the kernel's OOM killer, an enforced limit — `target.memoryLimitMiB`
 * — or anything else that SIGKILLs a service in production). A replica a nemesis stopped on purpose
 * (`kill-replica`, `restart-replica`) was not killed by its memory: its peak still counts, its exit does not.
 *
 * ```yaml
 * - type: memory
 *   name: export-fits-in-256-mib
 *   ceilingMiB: 256
 * ```
 *
 * Verdicts:
 * - `false` when a replica's peak exceeds the ceiling or it was killed by a signal; witnesses: replica,
 *   peak MiB, the moment of the peak (ms since trial start), the kill signal and when it was noticed.
 * - `unknown` when no RSS was sampled for some replica (not Linux, no `/proc`, the process exited
 *   before the first sample) and nothing was violated: a ceiling that was never measured is not a pass.
 * - `true` otherwise.
 * A replica that exits with a code (not killed) is not this invariant's business: the run reports it.
 */
export const config = z
  .strictObject({
    type: z.literal('memory'),
    name: z.string().min(1),
    description: z.string().optional(),
    ceilingMiB: z
      .number()
      .positive()
      .meta({ description: "Highest acceptable RSS of one replica's process tree, MiB." }),
  })
  .meta({
    description:
      "`memory`: a memory ceiling per replica. Holds when every replica's peak RSS (its whole process tree, sampled every 50 ms by `observe/rss-sampler.ts`) stayed at or under `ceilingMiB` and no replica was killed by a signal during the trial (the kernel's OOM killer, an enforced limit — `target.memoryLimitMiB` — or anything else that SIGKILLs a service in production).",
    yaml: '- type: memory\n  name: export-fits-in-256-mib\n  ceilingMiB: 256',
  });
export type MemoryInvariantConfig = z.output<typeof config>;

export function create(cfg: MemoryInvariantConfig): Invariant {
  const result = (
    holds: InvariantResult['holds'],
    summary: string,
    witnesses: Record<string, unknown>[] = [],
  ): InvariantResult => ({
    name: cfg.name,
    type: 'memory',
    holds,
    summary,
    witnesses,
    witnessCount: witnesses.length,
  });
  return {
    name: cfg.name,
    type: 'memory',
    async check({ replicas }) {
      if (!replicas || replicas.length === 0) {
        return result('unknown', 'no RSS samples: the memory of the target was not observed');
      }
      const witnesses: Record<string, unknown>[] = [];
      const problems: string[] = [];
      let unmeasured = 0;
      for (const r of replicas) {
        const killed = r.exit?.signal && r.killedBy !== 'nemesis' ? r.exit : undefined;
        const over = r.peakMiB > cfg.ceilingMiB;
        if (r.timeline.length === 0 && !killed) unmeasured++;
        if (!over && !killed) continue;
        witnesses.push({
          replica: r.replica,
          pid: r.pid ?? null,
          peakMiB: r.peakMiB,
          ceilingMiB: cfg.ceilingMiB,
          peakAtMs: r.peakAtMs,
          killSignal: killed?.signal ?? null,
          killedAtMs: killed?.atMs ?? null,
          killedBy:
            r.killedBy === 'limit'
              ? 'enforced memory limit'
              : r.killedBy === 'signal'
                ? 'external (OOM killer?)'
                : null,
        });
        problems.push(
          `replica ${r.replica} ${over ? `peaked at ${r.peakMiB} MiB (> ${cfg.ceilingMiB} MiB) at ${(r.peakAtMs / 1000).toFixed(2)} s` : `stayed at ≤ ${r.peakMiB} MiB`}${killed ? `, killed by ${killed.signal} at ${(killed.atMs / 1000).toFixed(2)} s${r.killedBy === 'limit' ? ' (enforced limit)' : ''}` : ''}`,
        );
      }
      if (problems.length > 0) return result(false, problems.join('; '), witnesses);
      if (unmeasured > 0) {
        return result('unknown', `${unmeasured} replica(s) without RSS samples; ceiling not verified`);
      }
      const peak = Math.max(...replicas.map((r) => r.peakMiB));
      return result(true, `peak ${peak} MiB ≤ ${cfg.ceilingMiB} MiB, no kill`);
    },
  };
}
