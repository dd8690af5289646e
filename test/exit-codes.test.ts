import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { RunReport } from '../src/report/types.js';
import { cli, leftovers, markTest } from './helpers.js';

/**
 * Exit code 3 end to end: real CLI runs of the fixed `jobs` target whose trials could not be judged as
 * written. No invariant is violated (the fixed variant holds), yet the run must not pass: it exits 3 and
 * says why. (0, 1 and 2 are asserted in races.test.ts and cli-errors.test.ts.)
 */
let mark: string;
beforeEach(() => {
  mark = markTest();
});

function run(fixture: string) {
  const out = mkdtempSync(join(tmpdir(), 'whatbreaks-test-exit-'));
  const r = cli(['run', `test/fixtures/${fixture}`, '--variant', 'fixed', '--out', out]);
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as RunReport;
  return { ...r, report };
}

describe('exit code 3: inconclusive', () => {
  it('a burst looser than its maxSpreadMs: every trial unknown, exit 3, the spread named', async () => {
    const r = run('unknown-loose-burst.yaml');
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(3);
    expect(r.stdout).toMatch(/trial 1\/2 UNKNOWN/);
    expect(r.stdout).toMatch(/inconclusive: send spread \d+\.\d+ ms is looser than maxSpreadMs 0\.000001 ms/);
    expect(r.stdout).toMatch(
      /unknown-loose-burst \[fixed\] on local: UNKNOWN {2}2 trials: 0 passed, 0 failed, 2 unknown/,
    );
    expect(r.report.verdict).toBe('unknown');
    // The invariant itself held: the trial is unknown because the burst was not what was asked for.
    for (const t of r.report.trials) {
      expect(t.verdict).toBe('unknown');
      expect(t.invariants.map((i) => i.holds)).toEqual([true]);
    }
    expect(await leftovers(mark, r.pid)).toEqual({ processes: [], dirs: [] });
  });

  it('a fault that never fired: every trial unknown, exit 3, the fault named', async () => {
    const r = run('unknown-fault-never-fires.yaml');
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(3);
    expect(r.stdout).toMatch(
      /inconclusive: fault pg-terminate-backends \(postgres \(all replicas\)\) at 60000 ms was not applied: the load ended first/,
    );
    expect(r.report.verdict).toBe('unknown');
    expect(r.report.trials.map((t) => t.faults?.map((f) => f.outcome))).toEqual([['skipped'], ['skipped']]);
    expect(await leftovers(mark, r.pid)).toEqual({ processes: [], dirs: [] });
  });
});
