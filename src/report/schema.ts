import { z } from 'zod';
import { REPORT_SCHEMA_VERSION, type RunReport } from './types.js';

/**
 * report.json as a zod schema: validates reports at run time (`whatbreaks report`, tests) and generates
 * the published JSON Schema `src/report/report.schema.json` (`z.toJSONSchema`, draft 2020-12).
 *
 * Objects are open on purpose: `types.ts` lets fields be *added* within a schema version, so a reader
 * of version 1 must accept fields it does not know (zod objects pass unknown keys through validation;
 * the JSON Schema is generated for input, so it sets no `additionalProperties: false`). Fields other engineers add to `TrialReport`
 * (`faults`, `herd`, `rss`) are described here as far as the renderers rely on them.
 *
 * `RunReport` (types.ts) must stay assignable to this schema's type: checked at compile time below.
 * Regenerate the JSON file with `node dist/src/report/schema-write.js` after changing this file; a
 * test fails while the published file is out of date.
 */

const ms = z.number().describe('milliseconds');
const verdict = z.enum(['pass', 'fail', 'unknown']);
const trialVerdict = z.enum(['pass', 'fail', 'unknown', 'aborted']);

/** `load.type: interleave`: the schedule a trial ran and its step table (`src/interleave/step-row.ts`). */
const interleaveTrialSchema = z.object({
  schedule: z.string().describe('request indices joined by dots, in release order; replay with --schedule'),
  source: z.enum(['dfs', 'pct', 'pinned']),
  choicePoints: z.int().min(0),
  preemptions: z.int().min(0),
  steps: z.array(
    z.object({
      order: z.int().min(1),
      request: z.int().min(0),
      connection: z.int().min(1),
      sql: z.array(z.string()),
      params: z.array(z.array(z.string().nullable())).optional(),
      result: z.string(),
      sqlstate: z.string().optional(),
      blocked: z.boolean().optional(),
      txAfter: z.string().optional(),
    }),
  ),
});

export const latencySummarySchema = z.object({
  count: z.int().min(0),
  p50: ms,
  p90: ms,
  p99: ms,
  p999: ms,
  max: ms,
  mean: ms,
});

export const requestRecordSchema = z.object({
  index: z.int().min(0),
  connection: z.int().min(0),
  sentAtMs: ms.describe('when the request was released, ms since trial start'),
  intendedAtMs: ms.optional(),
  status: z.int().optional(),
  latencyMs: ms.optional(),
  error: z.string().optional(),
  body: z.string().optional(),
});

export const invariantResultSchema = z.object({
  name: z.string(),
  type: z.string(),
  holds: z.union([z.boolean(), z.literal('unknown')]),
  summary: z.string(),
  witnesses: z.array(z.record(z.string(), z.unknown())),
  witnessCount: z.int().min(0),
});

/** A fault applied during a trial: `[startMs, endMs)` since trial start (end absent while still on). */
export const faultWindowSchema = z.object({
  type: z.string(),
  startMs: ms,
  endMs: ms.optional(),
});

/** Upstream arrivals per time bucket (thundering herd). Renderers accept counts or `{ startMs, count }`. */
export const herdSchema = z.object({
  bucketMs: ms.optional(),
  buckets: z.array(z.unknown()).optional(),
});

/** One replica's memory in one trial (`observe/rss-sampler.ts`): MiB, ms since trial start. */
export const replicaRssSchema = z.object({
  replica: z.number(),
  pid: z.number().optional(),
  peakMiB: z.number().describe('MiB'),
  peakAtMs: ms,
  timeline: z.array(z.tuple([ms, z.number().describe('MiB')])).describe('[tMs, MiB] per sample'),
  exit: z.object({ code: z.number().nullable(), signal: z.string().nullable(), atMs: ms }).optional(),
  killedBy: z.enum(['limit', 'signal', 'nemesis']).optional(),
  oomKilled: z.boolean().optional(),
});
export const rssSchema = z.array(replicaRssSchema);

export const trialReportSchema = z.object({
  trial: z.int().min(1),
  verdict: trialVerdict,
  startedAt: z.string(),
  durationMs: ms,
  inconclusive: z.string().optional(),
  error: z.string().optional(),
  load: z.object({
    kind: z.string(),
    sync: z.string().optional(),
    requests: z.int().min(0),
    sendSpreadMs: ms.optional(),
    arrivalSpreadMs: ms.optional(),
    statusCounts: z.record(z.string(), z.int().min(0)),
    latency: latencySummarySchema,
    warnings: z.array(z.string()),
    records: z.array(requestRecordSchema),
    interleave: interleaveTrialSchema.optional(),
  }),
  invariants: z.array(invariantResultSchema),
  faults: z.array(faultWindowSchema).optional(),
  herd: herdSchema.optional(),
  rss: rssSchema.optional(),
});

export const runReportSchema = z
  .object({
    schemaVersion: z.literal(REPORT_SCHEMA_VERSION),
    tool: z.object({ name: z.literal('whatbreaks'), version: z.string(), node: z.string() }),
    scenario: z.object({ name: z.string(), file: z.string(), description: z.string().optional() }),
    variant: z.string(),
    environment: z.object({ kind: z.enum(['local', 'docker', 'external']), reason: z.string() }),
    startedAt: z.string().describe('ISO 8601'),
    durationMs: ms,
    verdict,
    aborted: z.boolean(),
    interleave: z
      .object({
        exhaustive: z.boolean(),
        searched: z.int().min(0),
        sampled: z.int().min(0),
        pinned: z.boolean(),
        preemptionBound: z.int().min(0),
      })
      .optional()
      .describe('`interleave` loads: how the schedules were explored'),
    mutant: z
      .object({
        id: z.string(),
        label: z.string(),
        operator: z.string(),
        clause: z.string(),
        fingerprint: z.string().optional(),
        site: z.int().min(0).optional(),
        constraint: z.string().optional(),
      })
      .optional()
      .describe(
        'a mutant run (`whatbreaks mutate`): the protection removed from the candidate; replay applies it again',
      ),
    error: z.object({ code: z.string(), message: z.string(), hint: z.string().optional() }).optional(),
    summary: z.object({
      trials: z.int().min(0),
      passed: z.int().min(0),
      failed: z.int().min(0),
      unknown: z.int().min(0),
      aborted: z.int().min(0).optional().describe('trials interrupted while they ran (absent before 0.2)'),
      reproductionRate: z.number().min(0).max(1),
    }),
    trials: z.array(trialReportSchema),
  })
  .meta({
    title: 'whatbreaks report.json',
    description: `Everything one whatbreaks run measured. schemaVersion ${REPORT_SCHEMA_VERSION}; fields may be added within a version.`,
  });

// Compile-time check: every report the run writes has the shape this schema describes.
type Assignable<T extends U, U> = T;
export type _RunReportMatchesSchema = Assignable<RunReport, z.input<typeof runReportSchema>>;

/** The published JSON Schema (draft 2020-12) of report.json. */
export function reportJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(runReportSchema, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
}

/**
 * Check a parsed report.json. Returns the report, or the list of problems as `path: message` lines.
 */
export function validateReport(
  value: unknown,
): { ok: true; report: RunReport } | { ok: false; issues: string[] } {
  const r = runReportSchema.safeParse(value);
  if (r.success) return { ok: true, report: value as RunReport };
  return {
    ok: false,
    issues: r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
  };
}
