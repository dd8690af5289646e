import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pendingCleanups } from '../src/env/teardown.js';
import type { RunReport } from '../src/report/types.js';
import { runScenario } from '../src/run.js';
import { loadScenario } from '../src/scenario/load.js';
import type { Scenario } from '../src/scenario/types.js';
import { ROOT } from './helpers.js';

/**
 * `load.type: interleave` end to end: the real `jobs` target (node-postgres, `pool.query` per statement
 * in the buggy variant, so a request's steps move between pool connections), the real protocol proxy
 * and an embedded PostgreSQL. Needs `npm run build`.
 */
const outRoot = mkdtempSync(join(tmpdir(), 'whatbreaks-interleave-test-'));
const scenario = loadScenario(join(ROOT, 'scenarios', 'single-completion-interleave.yaml'));

afterAll(() => {
  expect(pendingCleanups()).toEqual([]);
  rmSync(outRoot, { recursive: true, force: true });
});

let runs = 0;
async function run(s: Scenario, variant: string, trials?: number): Promise<RunReport> {
  const { report } = await runScenario(s, { variant, trials, outDir: join(outRoot, `run-${++runs}`) });
  expect(report.error).toBeUndefined();
  return report;
}

function pinned(schedule: string): Scenario {
  if (scenario.load.type !== 'interleave') throw new Error('not an interleave scenario');
  return { ...scenario, load: { ...scenario.load, schedule } };
}

const schedules = (r: RunReport, verdict: string) =>
  r.trials.filter((t) => t.verdict === verdict).map((t) => t.load.interleave!.schedule);

/** Both status checks, then request 1 completes, then request 0 (found by the search, kept here). */
const FAILING = '0.1.1.1.1.0.0.0';
/** Request 0 runs to its end before request 1 starts. */
const PASSING = '0.0.0.0.1';

describe('interleave: single completion on the jobs target', () => {
  it('buggy: the search finds the failing schedules, exhaustively within 2 preemptions', async () => {
    const r = await run(scenario, 'buggy');
    expect(r.verdict).toBe('fail');
    expect(r.interleave).toMatchObject({ exhaustive: true, preemptionBound: 2, pinned: false });
    expect(r.summary.unknown).toBe(0);
    expect(r.summary.failed).toBeGreaterThan(0);
    expect(r.summary.passed).toBeGreaterThan(0);
    // Every schedule is distinct, and each trial ran its schedule to the end.
    const all = r.trials.map((t) => t.load.interleave!.schedule);
    expect(new Set(all).size).toBe(all.length);
    expect(schedules(r, 'fail')).toContain(FAILING);
    expect(schedules(r, 'pass')).toContain(PASSING);
    // The failing trial's step table shows the race: both status checks before either write.
    const steps = r.trials.find((t) => t.verdict === 'fail')!.load.interleave!.steps;
    expect(steps.slice(0, 2).map((s) => [s.request, s.sql[0]])).toEqual([
      [0, 'SELECT status FROM jobs WHERE id = $1'],
      [1, 'SELECT status FROM jobs WHERE id = $1'],
    ]);
    expect(steps.some((s) => s.sqlstate === '23505')).toBe(true);
  });

  it('buggy: replaying the failing schedule fails 20/20; a passing schedule passes 3/3', async () => {
    const bad = await run(pinned(FAILING), 'buggy', 20);
    expect(bad.summary).toMatchObject({ trials: 20, failed: 20, unknown: 0 });
    expect(new Set(bad.trials.map((t) => t.load.interleave!.schedule))).toEqual(new Set([FAILING]));
    const good = await run(pinned(PASSING), 'buggy', 3);
    expect(good.summary).toMatchObject({ trials: 3, passed: 3, unknown: 0 });
  });

  it('fixed: holds under every schedule within the bound; the locked SELECT is seen blocked', async () => {
    const r = await run(scenario, 'fixed');
    expect(r.verdict).toBe('pass');
    expect(r.interleave).toMatchObject({ exhaustive: true, preemptionBound: 2 });
    expect(r.summary).toMatchObject({ failed: 0, unknown: 0 });
    expect(r.summary.trials).toBeGreaterThanOrEqual(10);
    const blocked = r.trials.flatMap((t) => t.load.interleave!.steps.filter((s) => s.blocked));
    expect(blocked.length).toBeGreaterThan(0);
    expect(blocked.every((s) => /FOR UPDATE/.test(s.sql.join(' ')))).toBe(true);
  });

  it('a schedule the target cannot follow is unknown, never pass or fail', async () => {
    // There is no request 9: the second choice cannot be followed.
    const r = await run(pinned('0.9'), 'buggy');
    expect(r.verdict).toBe('unknown');
    expect(r.trials[0]!.inconclusive).toMatch(/schedule 0 did not run as written: .*request 9/);
  });

  it('a request waiting for the only pool connection is stalled, and its steps are still attributed', async () => {
    // POOL_MAX=1: request 1 waits in the application while request 0 holds the connection in its
    // transaction; request 0's steps on that connection are its own (the connection is in a transaction
    // it began), and request 1's BEGIN, sent once request 0 answered, is request 1's.
    const fixed = scenario.target.variants.fixed!;
    const s: Scenario = {
      ...scenario,
      target: {
        ...scenario.target,
        variants: { ...scenario.target.variants, fixed: { ...fixed, env: { ...fixed.env, POOL_MAX: '1' } } },
      },
    };
    const r = await run(s, 'fixed');
    expect(r.summary).toMatchObject({ trials: 1, passed: 1, unknown: 0 });
    // One connection serializes the two requests: a single schedule exists.
    expect(r.trials[0]!.load.interleave!.schedule).toBe('0.0.0.0.0.0.1.1.1');
  });
});
