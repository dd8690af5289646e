import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { judgeMutationScore } from '../src/mutate/mutation-gate.js';
import { runMutants } from '../src/mutate/mutation-run.js';
import { loadScenario, parseScenario } from '../src/scenario/load.js';
import { ROOT } from './helpers.js';

/**
 * `whatbreaks mutate` on the real `jobs` target and a real PostgreSQL, through the protocol proxy (the
 * scenario has no `database.proxy`: mutation runs force it on). Needs `npm run build`. Small trial counts.
 */
const out = mkdtempSync(join(tmpdir(), 'whatbreaks-mutate-run-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const file = join(ROOT, 'scenarios', 'single-completion.yaml');

describe('whatbreaks mutate', () => {
  it('finds the row lock of single-completion --variant fixed and kills it, with witnesses', async () => {
    const r = await runMutants(loadScenario(file), {
      variant: 'fixed',
      trials: 1,
      outDir: join(out, 'full'),
    });
    expect(r.discovery.verdict).toBe('pass');
    const lock = r.mutants.find((m) => m.operator === 'drop-row-lock');
    expect(lock?.statement).toBe('SELECT status FROM jobs WHERE id = $1 FOR UPDATE');
    expect(lock).toMatchObject({ outcome: 'killed', clause: 'FOR UPDATE' });
    // The proxy rewrote the statement: without the hook the lock stays and the trial passes.
    expect(lock!.rewritten).toBeGreaterThan(0);
    expect(lock!.killedBy!.invariants[0]!.name).toBe('exactly-one-completion-response');
    // The schema mutants run too. With the row lock in place the unique (job_id, status) is redundant for
    // this race, and no request can break the CHECK: both survive, and say so (docs/mutants.md).
    expect(r.mutants.filter((m) => m.kind === 'schema').map((m) => [m.id, m.outcome])).toEqual([
      ['drop-constraint@jobs_status_check', 'survived'],
      ['drop-constraint@job_status_history_job_id_status_key', 'survived'],
    ]);
    expect(r.score).toBeCloseTo(1 / 3);
    expect(judgeMutationScore(r, 1 / 3).pass).toBe(true);
  }, 180_000);

  it('reports a survivor of a weak scenario (no responses invariant) and fails --min-mutation-score 1', async () => {
    // Only "one notification per job": the unique (job_id, status) constraint rolls the second completion
    // back, so the table looks right without the row lock; the failure shows only as a 500 (docs/mutants.md).
    const text = readFileSync(file, 'utf8').replace(/ {2}- type: responses[\s\S]*?(?= {2}- type: sql)/, '');
    const weak = parseScenario(text, join(ROOT, 'scenarios', 'single-completion-weak.yaml'));
    expect(weak.invariants.map((i) => i.name)).toEqual(['single-completion']);
    const r = await runMutants(weak, { variant: 'fixed', trials: 1, outDir: join(out, 'weak') });
    const lock = r.mutants.find((m) => m.operator === 'drop-row-lock');
    expect(lock).toMatchObject({ outcome: 'survived' });
    expect(lock!.reason).toContain('redundant, or the scenario is too weak');
    const gate = judgeMutationScore(r, 1);
    expect(gate).toMatchObject({ pass: false, exit: 'fail' });
    expect(gate.message).toContain(lock!.label);
  }, 120_000);
});
