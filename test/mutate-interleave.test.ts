import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type MutantResult, runMutants } from '../src/mutate/mutation-run.js';
import type { RunReport } from '../src/report/types.js';
import { loadScenario } from '../src/scenario/load.js';
import { cli, ROOT } from './helpers.js';

/**
 * Mutants of interleave scenarios: each mutant is explored like the candidate (every schedule within the
 * bound), so a kill is a failing schedule, and `whatbreaks replay` on the mutant's run folder applies the
 * same mutant again and reproduces it. Real `jobs` and `booking` targets on a real PostgreSQL; needs
 * `npm run build`.
 */
const out = mkdtempSync(join(tmpdir(), 'whatbreaks-mutate-interleave-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/**
 * `whatbreaks replay` of a killed mutant's run, with the schedule that killed it (the command the
 * mutation report prints): its exit code, output and report.json.
 */
function replayKill(m: MutantResult, name: string) {
  const schedule = m.killedBy!.schedule!;
  expect(m.killedBy!.replay).toBe(`whatbreaks replay ${m.runDir} --schedule ${schedule}`);
  const replayDir = join(out, name);
  const res = cli(['replay', m.runDir, '--schedule', schedule, '--out', replayDir, '-q']);
  const replayed = JSON.parse(readFileSync(join(replayDir, 'report.json'), 'utf8')) as RunReport;
  return { schedule, res, replayed };
}

describe('mutants of interleave scenarios', () => {
  it('single-completion-interleave: the row lock is killed by a failing schedule that replay reproduces', async () => {
    const r = await runMutants(loadScenario(join(ROOT, 'scenarios', 'single-completion-interleave.yaml')), {
      variant: 'fixed',
      outDir: join(out, 'jobs'),
    });
    expect(r.discovery.verdict).toBe('pass');
    const lock = r.mutants.find((m) => m.operator === 'drop-row-lock');
    expect(lock).toMatchObject({ outcome: 'killed', clause: 'FOR UPDATE' });
    expect(lock!.killedBy!.schedule).toMatch(/^\d+(\.\d+)+$/);
    const mutantRun = JSON.parse(readFileSync(join(lock!.runDir, 'report.json'), 'utf8')) as RunReport;
    expect(mutantRun.mutant).toMatchObject({ id: lock!.id, operator: 'drop-row-lock', clause: 'FOR UPDATE' });

    // The replay applies the mutant again: the same schedule fails the same way. Without the mutant the
    // candidate keeps its row lock, and the schedule does not fail.
    const { schedule, res, replayed } = replayKill(lock!, 'replay');
    expect(res.code, res.stdout + res.stderr).toBe(1);
    expect(res.stdout).toContain(`mutant: ${lock!.label}`);
    expect(replayed.mutant?.id).toBe(lock!.id);
    expect(replayed.verdict).toBe('fail');
    const trial = replayed.trials[0]!;
    expect(trial.load.interleave?.schedule).toBe(schedule);
    const reads = trial.load
      .interleave!.steps.flatMap((s) => s.sql)
      .filter((q) => q.startsWith('SELECT status'));
    expect(reads.length).toBeGreaterThan(0);
    for (const q of reads) expect(q).not.toContain('FOR UPDATE');
    expect(trial.invariants.filter((i) => i.holds === false).map((i) => i.name)).toEqual(
      lock!.killedBy!.invariants.map((i) => i.name),
    );
  }, 240_000);

  it('fixed-unique: the unique constraint mutant is killed by a schedule that replay reproduces on the same mutant schema', async () => {
    const r = await runMutants(loadScenario(join(ROOT, 'scenarios', 'single-completion-interleave.yaml')), {
      variant: 'fixed-unique',
      outDir: join(out, 'unique'),
    });
    const unique = r.mutants.find((m) => m.id === 'drop-constraint@job_status_history_job_id_status_key');
    expect(unique).toMatchObject({ outcome: 'killed', kind: 'schema' });
    const { schedule, res, replayed } = replayKill(unique!, 'replay-unique');
    expect(res.code, res.stdout + res.stderr).toBe(1);
    expect(replayed.mutant).toMatchObject({
      id: unique!.id,
      constraint: 'job_status_history_job_id_status_key',
    });
    expect(replayed.verdict).toBe('fail');
    expect(replayed.trials[0]!.load.interleave?.schedule).toBe(schedule);
  }, 240_000);

  it('double-booking-interleave: the row lock is killed by a failing schedule', async () => {
    const r = await runMutants(loadScenario(join(ROOT, 'scenarios', 'double-booking-interleave.yaml')), {
      variant: 'fixed',
      outDir: join(out, 'booking'),
    });
    const lock = r.mutants.find((m) => m.operator === 'drop-row-lock');
    expect(lock).toMatchObject({ outcome: 'killed', clause: 'FOR UPDATE' });
    expect(lock!.killedBy!.schedule).toMatch(/^\d+(\.\d+)+$/);
    expect(lock!.killedBy!.invariants.map((i) => i.name)).toContain('no-overbooking');
  }, 240_000);
});
