import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pendingCleanups } from '../src/env/teardown.js';
import type { RunReport } from '../src/report/types.js';
import { runScenario } from '../src/run.js';
import { parseScenario } from '../src/scenario/load.js';
import { cli, ROOT } from './helpers.js';

/**
 * The verdict rules of docs/verdicts.md wired into real runs (the rules themselves are unit-tested in
 * `src/verdict.test.ts`): a load that did not run is `unknown` and exits 3, never a reproduced bug; an
 * interrupted trial is `aborted` and counts for nothing.
 */
const SINGLE_COMPLETION = readFileSync(join(ROOT, 'scenarios', 'single-completion.yaml'), 'utf8');

function scenarioFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'whatbreaks-test-verdicts-')), 'scenario.yaml');
  writeFileSync(file, text);
  return file;
}
const out = () => mkdtempSync(join(tmpdir(), 'whatbreaks-test-verdicts-'));

/**
 * A target that speaks only HTTP/1.0 (`test/fixtures/targets/http10_ok.py`): `single-packet` (HTTP/2)
 * cannot send its burst there. It answers 200 to everything, so the invariant `2xx: exactly 1` would read
 * `0× 2xx` from an empty load — a "reproduced" bug that is not there.
 */
const HTTP10_SCENARIO = `name: load-cannot-run
target:
  command: python3 ${join(ROOT, 'test', 'fixtures', 'targets', 'http10_ok.py')}
  health: { path: /health }
load:
  type: burst
  requests: 2
  sync: single-packet
  request: { method: POST, path: /api/jobs/1/complete, json: { result: "worker {{n}}" } }
invariants:
  - type: responses
    name: one-winner
    counts: { 2xx: { exactly: 1 } }
trials: 2
`;

describe('a load that did not run as written', () => {
  it('is unknown (exit 3) with the reason, not a violation: single-packet against an HTTP/1.0 target', () => {
    const dir = out();
    const r = cli(['run', scenarioFile(HTTP10_SCENARIO), '--out', dir]);
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as RunReport;
    expect(r.code, r.stdout + r.stderr).toBe(3);
    expect(report.verdict).toBe('unknown');
    expect(report.summary).toMatchObject({
      trials: 2,
      passed: 0,
      failed: 0,
      unknown: 2,
      reproductionRate: 0,
    });
    for (const t of report.trials) {
      expect(t.verdict).toBe('unknown');
      expect(t.inconclusive).toMatch(/^the load failed: /);
      // No invariant judged the trial.
      expect(t.invariants).toEqual([]);
    }
    expect(r.stdout).toMatch(/UNKNOWN/);
    expect(r.stdout).toMatch(/the load failed/);
  });

  it('--quiet still says why a trial could not be judged', () => {
    const r = cli(['run', scenarioFile(HTTP10_SCENARIO), '--trials', '1', '--out', out(), '--quiet']);
    expect(r.code, r.stdout + r.stderr).toBe(3);
    expect(r.stdout).toMatch(/trial 1\/1 UNKNOWN: the load failed: /);
  });
});

describe('an interrupted trial', () => {
  it('is aborted: recorded, counted neither passed nor failed, and the run is not a pass', async () => {
    // An idle load of 60 s, interrupted 1 s into the trial: the kind of trial a Ctrl-C cuts short.
    const text = SINGLE_COMPLETION.replace(
      /load:\n(.|\n)*?\ninvariants:/,
      'load: { type: idle, durationMs: 60s }\n\ninvariants:',
    );
    const file = join(ROOT, 'scenarios', 'single-completion.yaml');
    const controller = new AbortController();
    const { report } = await runScenario(parseScenario(text, file), {
      variant: 'fixed',
      trials: 3,
      outDir: out(),
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === 'trial-start') setTimeout(() => controller.abort(), 1_000);
      },
    });
    expect(report.aborted).toBe(true);
    expect(report.trials.map((t) => t.verdict)).toEqual(['aborted']);
    expect(report.trials[0]!.inconclusive).toMatch(/interrupted/);
    expect(report.trials[0]!.invariants).toEqual([]);
    expect(report.summary).toMatchObject({ trials: 1, passed: 0, failed: 0, unknown: 0, aborted: 1 });
    expect(report.verdict).toBe('unknown');
    expect(pendingCleanups()).toEqual([]);
  });
});
