import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pendingCleanups } from '../src/env/teardown.js';
import { runScenario } from '../src/run.js';
import { loadScenario } from '../src/scenario/load.js';

/**
 * Pool exhaustion end to end: a latency toxic on the payment provider's TCP proxy and on the database's
 * proxy (`database.proxy: true`); the buggy handler holds its pool connection across the slow call.
 * Needs `npm run build`.
 */
const SCENARIO = resolve('scenarios/pool-exhaustion.yaml');
const out = mkdtempSync(join(tmpdir(), 'whatbreaks-pool-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('pool exhaustion', () => {
  it('buggy: orders wait for a pool connection and fail; both toxics are on the timeline', async () => {
    const { report } = await runScenario(loadScenario(SCENARIO), {
      variant: 'buggy',
      trials: 1,
      outDir: join(out, 'buggy'),
    });
    expect(report.error).toBeUndefined();
    expect(report.verdict).toBe('fail');
    const t = report.trials[0]!;
    const errors = t.invariants.find((i) => i.name === 'errors-under-1pct')!;
    expect(errors.holds).toBe(false);
    // The pool said no: 503 "no database connection available".
    expect(t.load.statusCounts['503']).toBeGreaterThan(0);
    expect(t.faults!.map((f) => [f.type, f.target, f.outcome])).toEqual([
      ['toxic', 'proxy upstream', 'applied'],
      ['toxic', 'proxy postgres', 'applied'],
    ]);
    for (const f of t.faults!) {
      expect(f.detail).toMatch(/^latency_downstream: .*; removed$/);
      expect(f.endMs).toBeGreaterThan(f.startMs);
    }
    expect(pendingCleanups()).toEqual([]);
  });

  it('fixed: the connection goes back before the call; the slow provider only adds its latency', async () => {
    const { report } = await runScenario(loadScenario(SCENARIO), {
      variant: 'fixed',
      trials: 1,
      outDir: join(out, 'fixed'),
    });
    expect(report.error).toBeUndefined();
    expect(report.verdict).toBe('pass');
    const t = report.trials[0]!;
    expect(t.load.statusCounts).toEqual({ 201: t.load.requests });
    // The toxics were really there: no order was faster than the provider's 300 ± 20 ms.
    expect(t.load.latency.p50).toBeGreaterThanOrEqual(280);
    expect(pendingCleanups()).toEqual([]);
  });
});
