import { z } from 'zod';
import { WhatbreaksError } from '../errors.js';
import { type ExplorationSummary, Explorer } from '../interleave/explorer.js';
import { parseSchedule } from '../interleave/schedule.js';
import type { StepRow } from '../interleave/step-row.js';
import { runSchedule } from '../interleave/trial.js';
import { BlockedProbe } from '../pgwire/blocked.js';
import { renderRequest, requestTemplateSchema } from '../scenario/request-template.js';
import { durationMs, positiveDurationMs } from '../timeline/duration.js';
import type { LoadExecutor } from './executor.js';
import type { PreparedRequest } from './types.js';

/**
 * `interleave`: K concurrent requests (2–4) whose SQL steps reach PostgreSQL one at a time, in an order
 * whatbreaks chooses, through the PostgreSQL protocol proxy (`database.proxy` is turned to `{ protocol:
 * postgres }`). Each schedule is one trial: reset, run, judge. The schedules come from a depth-first
 * search with a preemption bound, then PCT samples, or one pinned `schedule` (`src/interleave/`).
 *
 * ```yaml
 * load:
 *   type: interleave
 *   count: 2
 *   request: { method: POST, path: /api/jobs/1/complete, json: { result: "worker {{n}}" } }
 * ```
 */
export const config = z
  .strictObject({
    type: z.literal('interleave'),
    request: requestTemplateSchema.optional().meta({
      description: 'One request template, sent `count` times ({{n}} = 1..count); its copies are symmetric.',
    }),
    count: z.int().min(2).max(4).default(2).meta({ description: 'Copies of `request` (2–4).' }),
    requests: z.array(requestTemplateSchema).min(2).max(4).optional().meta({
      description:
        'Different requests instead of one template (e.g. book + cancel), 2–4; request i is index i.',
    }),
    preemptions: z.int().min(0).max(10).default(2).meta({
      description:
        'Preemption bound of the search (CHESS): at most this many times a schedule switches away from a request that could go on.',
    }),
    maxSchedules: z.int().min(1).max(100_000).default(500).meta({
      description: 'Schedules the search may run; when it stops here the search is not exhaustive.',
    }),
    samples: z.int().min(0).max(100_000).default(0).meta({
      description: 'PCT-sampled schedules to run after the search (beyond the preemption bound).',
    }),
    depth: z
      .int()
      .min(1)
      .max(10)
      .default(3)
      .meta({ description: 'PCT bug depth d (d − 1 priority change points).' }),
    seed: z.int().min(0).default(1).meta({ description: 'Seed of the PCT samples.' }),
    schedule: z
      .string()
      .regex(/^(-|\d{1,2}(\.\d{1,2})*)$/, 'request indices joined by dots, e.g. 0.0.1.1')
      .optional()
      .meta({
        description:
          'Run exactly this schedule (from a report) instead of exploring: once, or `--trials` times. A reproduction kept beside the fix.',
        examples: ['0.1.0.1.1.0'],
      }),
    quietMs: positiveDurationMs.default(250).meta({
      description:
        'After a request is started or handed an answer: ms without a step or a response before it counts as stalled.',
    }),
    stallTimeoutMs: positiveDurationMs.default(5_000).meta({
      description:
        'ms to wait, with no step to release, for a stalled or blocked request to move; then the trial is unknown.',
    }),
    stepTimeoutMs: positiveDurationMs.default(10_000).meta({
      description: 'ms a released step may take to be answered or seen blocked; then the trial is unknown.',
    }),
    deadlockTimeoutMs: durationMs.default(50).meta({
      description:
        "PostgreSQL's `deadlock_timeout` for the run, ms: how long a deadlock waits before PostgreSQL aborts one side.",
    }),
  })
  .refine((c) => (c.request === undefined) !== (c.requests === undefined), {
    message: 'give either `request` (with `count`) or `requests`',
  })
  .meta({
    description:
      '`interleave`: 2–4 concurrent requests whose SQL steps reach PostgreSQL one at a time in an order whatbreaks chooses (through the PostgreSQL protocol proxy). Each schedule is a trial: a depth-first search within a preemption bound, then PCT samples, or one pinned `schedule`.',
    yaml: 'load:\n  type: interleave\n  count: 2\n  request: { method: POST, path: /api/jobs/1/complete, json: { result: "worker {{n}}" } }',
  });
export type InterleaveConfig = z.output<typeof config>;

/** What one interleaved trial ran, for the report. */
export interface InterleaveTrialInfo {
  /** The schedule's id: request indices joined by dots (`0.0.1.1`); replay it with `schedule:`. */
  schedule: string;
  source: 'dfs' | 'pct' | 'pinned';
  /** Choice points where more than one request had a held step. */
  choicePoints: number;
  preemptions: number;
  steps: StepRow[];
}

/**
 * Trials an interleave load runs at most (the run stops earlier when the exploration is over); a pinned
 * schedule runs once unless the run asks for more trials (`--trials 20`: the same schedule 20 times).
 */
export function trialBudget(cfg: InterleaveConfig): number {
  return cfg.schedule !== undefined ? 1 : cfg.maxSchedules + cfg.samples;
}

export function create(cfg: InterleaveConfig): LoadExecutor & { exploration(): ExplorationSummary } {
  const templates = cfg.requests ?? Array.from({ length: cfg.count }, () => cfg.request!);
  const groups = cfg.requests ? templates.map((_, i) => i) : templates.map(() => 0);
  const explorer = new Explorer({
    groups,
    preemptions: cfg.preemptions,
    maxSchedules: cfg.maxSchedules,
    samples: cfg.samples,
    depth: cfg.depth,
    seed: cfg.seed,
    ...(cfg.schedule !== undefined ? { pinned: parseSchedule(cfg.schedule) } : {}),
  });
  let planned = explorer.next();
  let trial = 0;
  return {
    more: () => planned !== undefined,
    exploration: () => explorer.summary(),
    async run(ctx) {
      trial++;
      const startedAtMs = ctx.clock();
      const plan = planned;
      if (!plan) throw new Error('interleave: run() called after more() returned false');
      if (!ctx.pgwire || !ctx.databaseUrl) {
        throw new WhatbreaksError(
          'SCENARIO_INVALID',
          'load type interleave needs the PostgreSQL protocol proxy and a local database',
          'run it in the local environment (the protocol proxy runs only there for now)',
        );
      }
      const requests: PreparedRequest[] = templates.map((t, i) => renderRequest(t, { i, n: i + 1, trial }));
      const probe = await BlockedProbe.connect(ctx.databaseUrl);
      let run: Awaited<ReturnType<typeof runSchedule>>;
      try {
        run = await runSchedule({
          proxy: ctx.pgwire,
          probe,
          baseUrl: ctx.baseUrl,
          requests,
          choose: plan.choose,
          quietMs: cfg.quietMs,
          stallTimeoutMs: cfg.stallTimeoutMs,
          stepTimeoutMs: cfg.stepTimeoutMs,
          clock: ctx.clock,
          signal: ctx.signal,
        });
      } finally {
        await probe.close();
      }
      if (plan.source === 'dfs') explorer.record(run.points);
      planned = explorer.next();
      // A pinned schedule must run to its end: a trial that stopped short did not run it as written.
      const pinned = cfg.schedule !== undefined ? parseSchedule(cfg.schedule) : undefined;
      const short =
        pinned && !run.failed && run.points.length !== pinned.length
          ? `the trial ended after ${run.points.length} choices; the schedule has ${pinned.length}`
          : undefined;
      const failed = run.failed ?? short;
      const interleave: InterleaveTrialInfo = {
        schedule: run.schedule,
        source: plan.source,
        choicePoints: run.points.filter((p) => p.enabled.length > 1).length,
        preemptions: run.preemptions,
        steps: run.steps,
      };
      return {
        kind: 'interleave',
        records: run.records,
        startedAtMs,
        durationMs: ctx.clock() - startedAtMs,
        warnings: [],
        interleave,
        ...(failed ? { failed: `schedule ${run.schedule} did not run as written: ${failed}` } : {}),
      };
    },
  };
}
