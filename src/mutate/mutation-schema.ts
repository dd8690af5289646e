import { z } from 'zod';
import { VERSION } from '../version.js';
import type { MutationReport } from './mutation-run.js';

/**
 * `mutation.json` (written by `whatbreaks mutate` and by `whatbreaks verify … --mutants` in its
 * `mutants/` folder) as a zod schema: validates files at run time and generates the published JSON
 * Schema `src/mutate/mutation.schema.json` (`z.toJSONSchema`, draft 2020-12), as `src/report/schema.ts`
 * does for report.json.
 *
 * Objects are open: fields may be added within a schema version (a reader of version 1 accepts fields it
 * does not know). Optional fields other parts of whatbreaks may add — a mutant's `kind` (`statement` or
 * `schema`), the failing interleave `schedule` of a kill — are described here so readers can rely on them.
 *
 * `MutationReport` (mutation-run.ts) must stay assignable to this schema's type: checked at compile time
 * below. Regenerate the JSON file with `node dist/src/mutate/mutation-schema-write.js` after changing this
 * file; a test fails while the published file is out of date.
 */

export const MUTATION_SCHEMA_VERSION = 1;

const count = z.int().min(0);

const outcome = z.enum(['killed', 'survived', 'unknown']);

export const mutantResultSchema = z.object({
  id: z.string().describe('operator@fingerprint of the statement (or constraint name); stable across runs'),
  label: z.string().describe('operator@statement as a person reads it'),
  kind: z.string().optional().describe('statement (rewritten at the proxy) or schema (a constraint dropped)'),
  operator: z.string().describe('drop-row-lock, lower-isolation, no-advisory-lock, drop-on-conflict, …'),
  clause: z.string().describe('the clause the mutant removes, e.g. FOR UPDATE'),
  statement: z.string().describe('the statement (or constraint) as seen in the discovery run'),
  seen: count.describe('executions in the discovery run (0 for a schema mutant)'),
  file: z.string().optional().describe('schema mutants: the schema file that declares the constraint'),
  constraint: z
    .object({
      name: z.string(),
      kind: z.string(),
      table: z.string(),
      columns: z.array(z.string()).readonly(),
    })
    .optional()
    .describe('schema mutants: the constraint dropped (PostgreSQL’s name), its kind, table and columns'),
  outcome,
  reason: z.string().describe('why this outcome, in one sentence'),
  trials: z.object({ run: count, passed: count, failed: count, unknown: count, aborted: count }),
  rewritten: count.describe('statements the proxy rewrote during the mutant’s trials'),
  killedBy: z
    .object({
      trial: z.int().min(1),
      schedule: z
        .string()
        .optional()
        .describe('interleave loads: the failing schedule; replay with --schedule'),
      replay: z
        .string()
        .optional()
        .describe('interleave loads: the command that replays the schedule against the same mutant'),
      invariants: z.array(
        z.object({
          name: z.string(),
          summary: z.string(),
          witnesses: z.array(z.record(z.string(), z.unknown())),
        }),
      ),
    })
    .optional()
    .describe('killed only: the first failing trial and the violated invariants with their witnesses'),
  runDir: z.string().describe('the mutant’s run folder (its report.json)'),
});

const pointFields = {
  id: z.string(),
  label: z.string(),
  operator: z.string(),
  statement: z.string(),
  clause: z.string(),
  seen: count,
};

export const mutationReportSchema = z.object({
  scenario: z.string(),
  variant: z.string().describe('the candidate variant the mutants ran against'),
  discovery: z.object({
    runDir: z.string(),
    verdict: z.string().describe('pass, fail or unknown: the candidate without mutants, one trial'),
    problem: z.string().optional().describe('set when the candidate did not pass: no mutant was run'),
    statements: count.describe('distinct statements (fingerprints) parsed'),
    refused: z.array(z.object({ ...pointFields, reason: z.string() })),
    unparsed: z
      .array(z.object({ sql: z.string(), count, error: z.string() }))
      .describe('statements the parser cannot read: passed through unchanged'),
    schema: z
      .object({
        files: z.array(z.string()),
        refused: z.array(z.object({ id: z.string(), constraint: z.string(), reason: z.string() })),
        unparsed: z.array(z.object({ file: z.string(), error: z.string() })),
      })
      .optional()
      .describe(
        'the scenario’s schema files, constraints not mutated (with why), files the parser cannot read',
      ),
  }),
  mutants: z.array(mutantResultSchema),
  killed: count,
  survived: count,
  unknown: count,
  score: z
    .number()
    .min(0)
    .max(1)
    .nullable()
    .describe('killed / (killed + survived); null when none was judged'),
});

export const mutationFileSchema = mutationReportSchema
  .extend({
    schemaVersion: z.literal(MUTATION_SCHEMA_VERSION),
    kind: z.literal('mutation'),
    tool: z.object({ name: z.literal('whatbreaks'), version: z.string(), node: z.string() }),
    startedAt: z.string().describe('ISO 8601'),
    durationMs: z.number().min(0).describe('milliseconds'),
    trialsPerMutant: z.int().min(1).optional().describe('as asked; absent: the scenario’s trials'),
  })
  .meta({
    title: 'whatbreaks mutation.json',
    description: `The mutants of one candidate and whether the scenario killed each (docs/mutants.md). schemaVersion ${MUTATION_SCHEMA_VERSION}; fields may be added within a version.`,
  });

/** `mutation.json`: the mutation report with its version, the tool and the timing. */
export type MutationFile = MutationReport & {
  schemaVersion: typeof MUTATION_SCHEMA_VERSION;
  kind: 'mutation';
  tool: { name: 'whatbreaks'; version: string; node: string };
  /** ISO 8601. */
  startedAt: string;
  durationMs: number;
  trialsPerMutant?: number;
};

// Compile-time check: every report runMutants returns, and every file written, has the shape described.
type Assignable<T extends U, U> = T;
export type _MutationReportMatchesSchema = Assignable<MutationReport, z.input<typeof mutationReportSchema>>;
export type _MutationFileMatchesSchema = Assignable<MutationFile, z.input<typeof mutationFileSchema>>;

/** The file for `report`, a run that started at `startedAt` and took `durationMs` ms. */
export function mutationFile(
  report: MutationReport,
  startedAt: Date,
  durationMs: number,
  trialsPerMutant?: number,
): MutationFile {
  return {
    schemaVersion: MUTATION_SCHEMA_VERSION,
    kind: 'mutation',
    tool: { name: 'whatbreaks', version: VERSION, node: process.version },
    startedAt: startedAt.toISOString(),
    durationMs: Math.round(durationMs),
    ...(trialsPerMutant === undefined ? {} : { trialsPerMutant }),
    ...report,
  };
}

/** The published JSON Schema (draft 2020-12) of mutation.json. */
export function mutationJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(mutationFileSchema, { io: 'input', target: 'draft-2020-12' }) as Record<
    string,
    unknown
  >;
}

/** Check a parsed mutation.json: the file, or its problems as `path: message` lines. */
export function validateMutationFile(
  value: unknown,
): { ok: true; file: MutationFile } | { ok: false; issues: string[] } {
  const r = mutationFileSchema.safeParse(value);
  if (r.success) return { ok: true, file: value as MutationFile };
  return { ok: false, issues: r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`) };
}
