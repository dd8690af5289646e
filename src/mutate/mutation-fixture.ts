import type { MutantResult, MutationReport } from './mutation-run.js';
import { SURVIVOR_MEANING } from './mutation-run.js';
import { type MutationFile, mutationFile } from './mutation-schema.js';

/**
 * A mutation report with one mutant of each outcome, a refused point and an unparsed statement, for the
 * renderers' and the schema's unit tests. The killed mutant carries the optional fields other parts add
 * (`kind`, `killedBy.schedule`) and a witness that must be escaped.
 */
export function fixtureMutationReport(): MutationReport {
  const trials = (passed: number, failed: number, unknown = 0) => ({
    run: passed + failed + unknown,
    passed,
    failed,
    unknown,
    aborted: 0,
  });
  const killed = {
    id: 'drop-row-lock@c00d0671ab775e1f',
    label: 'drop-row-lock@SELECT status FROM jobs WHERE id = $1 FOR UPDATE',
    kind: 'statement',
    operator: 'drop-row-lock',
    clause: 'FOR UPDATE',
    statement: 'SELECT status FROM jobs WHERE id = $1 FOR UPDATE',
    seen: 20,
    outcome: 'killed',
    reason: 'trial 1 failed without FOR UPDATE: exactly-one-completion-response: 4 × 500',
    trials: trials(0, 2),
    rewritten: 40,
    killedBy: {
      trial: 1,
      schedule: '0.1.1.1.1.0.0.0',
      replay: 'whatbreaks replay /r/mutants/drop-row-lock@c00d0671ab775e1f --schedule 0.1.1.1.1.0.0.0',
      invariants: [
        {
          name: 'exactly-one-completion-response',
          summary: '4 responses were 500',
          witnesses: [{ request: 3, status: 500, body: '<script>alert("x")</script>' }],
        },
      ],
    },
    runDir: '/r/mutants/drop-row-lock@c00d0671ab775e1f',
  } satisfies MutantResult & { kind: string; killedBy: { schedule: string } };
  const survived: MutantResult = {
    id: 'drop-update-predicate@9a1b',
    kind: 'statement',
    label:
      "drop-update-predicate@UPDATE jobs SET status = 'completed' WHERE id = $1 AND status = 'in_progress'",
    operator: 'drop-update-predicate',
    clause: "status = 'in_progress'",
    statement: "UPDATE jobs SET status = 'completed' WHERE id = $1 AND status = 'in_progress'",
    seen: 2,
    outcome: 'survived',
    reason: `all 2 trial(s) passed without status = 'in_progress' (4 statement(s) rewritten): ${SURVIVOR_MEANING}`,
    trials: trials(2, 0),
    rewritten: 4,
    runDir: '/r/mutants/drop-update-predicate@9a1b',
  };
  const unknown: MutantResult = {
    id: 'no-advisory-lock@77aa',
    kind: 'statement',
    label: 'no-advisory-lock@SELECT pg_advisory_xact_lock($1)',
    operator: 'no-advisory-lock',
    clause: 'pg_advisory_xact_lock($1)',
    statement: 'SELECT pg_advisory_xact_lock($1)',
    seen: 1,
    outcome: 'unknown',
    reason: 'the mutated statement never ran during its trials: the mutant was not exercised',
    trials: trials(2, 0),
    rewritten: 0,
    runDir: '/r/mutants/no-advisory-lock@77aa',
  };
  return {
    scenario: 'single-completion',
    variant: 'fixed',
    discovery: {
      runDir: '/r/mutants/discovery/single-completion-fixed',
      verdict: 'pass',
      statements: 6,
      schema: { files: [], refused: [], unparsed: [] },
      refused: [
        {
          id: 'drop-on-conflict@5e',
          label: 'drop-on-conflict@INSERT … ON CONFLICT (a) DO UPDATE SET b = $2',
          operator: 'drop-on-conflict',
          fingerprint: '5e',
          site: 0,
          statement: 'INSERT INTO t (a) VALUES ($1) ON CONFLICT (a) DO UPDATE SET b = $2',
          clause: 'ON CONFLICT (a) DO UPDATE SET b = $2',
          seen: 1,
          reason: 'the mutant would lose parameter $2',
        },
      ],
      unparsed: [{ sql: 'SELEC 1', count: 1, error: 'syntax error at or near "SELEC"' }],
    },
    mutants: [killed, survived, unknown],
    killed: 1,
    survived: 1,
    unknown: 1,
    score: 0.5,
  };
}

export function fixtureMutationFile(): MutationFile {
  return mutationFile(fixtureMutationReport(), new Date('2026-11-28T10:00:00Z'), 15_000, 2);
}
