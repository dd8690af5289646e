import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunReport } from '../src/report/types.js';
import { cli } from './helpers.js';

/**
 * `target.restart: per-trial` against a real target that keeps state in memory (a claim answered 200
 * once per process, 409 afterwards): not restarted, trials 2 and 3 fail although each database is fresh;
 * restarted, every trial starts from a new process and passes.
 */
function run(fixture: string) {
  const out = mkdtempSync(join(tmpdir(), 'whatbreaks-restart-'));
  const r = cli(['run', `test/fixtures/${fixture}`, '--out', out]);
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as RunReport;
  return { ...r, report };
}

describe('target.restart', () => {
  it('never (the default): in-memory state carries over, trials 2 and 3 fail', () => {
    const r = run('restart-never.yaml');
    expect(r.code, r.stderr).toBe(1);
    expect(r.report.trials.map((t) => t.verdict)).toEqual(['pass', 'fail', 'fail']);
  });

  it('per-trial: every replica is restarted before each trial after the first, every trial passes', () => {
    const r = run('restart-per-trial.yaml');
    expect(r.code, r.stderr).toBe(0);
    expect(r.report.trials.map((t) => t.verdict)).toEqual(['pass', 'pass', 'pass']);
    // A different process answered each trial.
    const bodies = r.report.trials.map((t) => t.load.records[0]?.body ?? '');
    expect(new Set(bodies).size).toBe(3);
  });
});
