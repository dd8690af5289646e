import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pendingCleanups } from '../src/env/teardown.js';
import type { RunReport } from '../src/report/types.js';
import { runScenario } from '../src/run.js';
import { loadScenario } from '../src/scenario/load.js';
import { ROOT } from './helpers.js';

/**
 * `load.type: interleave` on more targets: a Python service (psycopg2, simple Query protocol), the
 * `booking` target with room for one more booking, and a target whose two requests lock rows in
 * opposite order (PostgreSQL's deadlock error is an outcome). Needs `npm run build`.
 */
const outRoot = mkdtempSync(join(tmpdir(), 'whatbreaks-interleave-targets-'));

afterAll(() => {
  expect(pendingCleanups()).toEqual([]);
  rmSync(outRoot, { recursive: true, force: true });
});

let runs = 0;
async function run(file: string, variant?: string): Promise<RunReport> {
  const { report } = await runScenario(loadScenario(join(ROOT, file)), {
    variant,
    outDir: join(outRoot, `run-${++runs}`),
  });
  expect(report.error).toBeUndefined();
  expect(report.summary.unknown).toBe(0);
  expect(report.interleave).toMatchObject({ exhaustive: true, preemptionBound: 2 });
  return report;
}

describe.each([
  ['scenarios/py-single-completion-interleave.yaml', 'psycopg2 (simple protocol)'],
  ['scenarios/double-booking-interleave.yaml', 'booking, room for one'],
])('interleave: %s (%s)', (file) => {
  it('buggy: failing schedules found', async () => {
    const r = await run(file, 'buggy');
    expect(r.verdict).toBe('fail');
    expect(r.summary.passed).toBeGreaterThan(0);
  });
  it('fixed: holds under every schedule within the bound, with blocked steps seen', async () => {
    const r = await run(file, 'fixed');
    expect(r.verdict).toBe('pass');
    expect(r.trials.some((t) => t.load.interleave!.steps.some((s) => s.blocked))).toBe(true);
  });
});

describe('interleave: rows locked in opposite order', () => {
  it("PostgreSQL's deadlock error is an outcome, not a hang or an unknown", async () => {
    const r = await run('test/fixtures/interleave/lock-order.yaml');
    expect(r.verdict).toBe('pass');
    const deadlocked = r.trials.filter((t) => t.load.interleave!.steps.some((s) => s.sqlstate === '40P01'));
    expect(deadlocked.length).toBeGreaterThan(0);
    for (const t of deadlocked) expect(t.load.statusCounts).toEqual({ '200': 1, '409': 1 });
    // Schedules that do not interleave the two first UPDATEs do not deadlock.
    expect(deadlocked.length).toBeLessThan(r.trials.length);
  });
});

describe('interleave: REPEATABLE READ read-modify-write', () => {
  it('a serialization failure (40001) is an outcome the application answers', async () => {
    const r = await run('test/fixtures/interleave/repeatable-read.yaml');
    expect(r.verdict).toBe('pass');
    const failed = r.trials.filter((t) => t.load.interleave!.steps.some((s) => s.sqlstate === '40001'));
    expect(failed.length).toBeGreaterThan(0);
    for (const t of failed) expect(t.load.statusCounts).toEqual({ '200': 1, '409': 1 });
    // Some of them waited for the other transaction's row lock first: seen blocked, then failed.
    expect(
      failed.some((t) => t.load.interleave!.steps.some((s) => s.blocked && s.sqlstate === '40001')),
    ).toBe(true);
  });
});

describe('interleave: a request that issues no SQL', () => {
  it('is started, answers, and the other request runs alone: one schedule, pass', async () => {
    const r = await run('test/fixtures/interleave/no-sql.yaml');
    expect(r.verdict).toBe('pass');
    expect(r.summary.trials).toBe(1);
    const x = r.trials[0]!.load.interleave!;
    expect(x.schedule).toBe('0.0.0.0');
    expect(new Set(x.steps.map((s) => s.request))).toEqual(new Set([0]));
  });
});
