import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pendingCleanups } from '../src/env/teardown.js';
import { ScenarioError } from '../src/errors.js';
import { runScenario } from '../src/run.js';
import { loadScenario, parseScenario } from '../src/scenario/load.js';

/**
 * Cron double execution end to end: two scheduler replicas behind the load balancer on a real embedded
 * PostgreSQL. Needs `npm run build` (the scenarios start `dist/targets/scheduler/server.js`).
 */
const SCENARIO = resolve('scenarios/cron-double-execution.yaml');
const FAILOVER = resolve('scenarios/cron-failover.yaml');
const out = mkdtempSync(join(tmpdir(), 'whatbreaks-cron-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('cron double execution', () => {
  it('buggy: every tick runs on both replicas; the witnesses name the ticks and both instances', async () => {
    const { report } = await runScenario(loadScenario(SCENARIO), {
      variant: 'buggy',
      trials: 1,
      outDir: join(out, 'buggy'),
    });
    expect(report.error).toBeUndefined();
    expect(report.verdict).toBe('fail');
    const inv = report.trials[0]!.invariants[0]!;
    expect(inv.holds).toBe(false);
    expect(inv.summary).toMatch(/executed more than once \(by instance 0, 1\)/);
    const dup = inv.witnesses.find((w) => w.problem === 'duplicate')!;
    expect(dup.key).toMatchObject({ task: expect.any(String), tick: expect.stringMatching(/^\d+$/) });
    expect([...(dup.by as string[])].sort()).toEqual(['0', '1']);
    // Ten seconds of two tasks on two replicas: most ticks are duplicated, not one by chance.
    expect(inv.witnessCount).toBeGreaterThanOrEqual(10);
    expect(pendingCleanups()).toEqual([]);
  });

  it('fixed with replica 1 killed at 5 s: exactly once, no tick missed after failover, the kill on the timeline', async () => {
    // Long tasks (900 ms) so the kill most likely lands while replica 1 holds a claim: the survivor then
    // has to take the tick over after the lease expires. The second invariant only *reports* takeovers.
    const text = readFileSync(FAILOVER, 'utf8')
      .replace('fixed: { env: { VARIANT: fixed } }', 'fixed: { env: { VARIANT: fixed, TASK_WORK_MS: 900 } }')
      .replace(
        'trials: 1',
        `  - type: sql
    name: takeovers
    query: SELECT task, tick, claims FROM task_claims WHERE claims > 1
trials: 1`,
      );
    const { report } = await runScenario(parseScenario(text, FAILOVER), {
      variant: 'fixed',
      outDir: join(out, 'failover'),
    });
    expect(report.error).toBeUndefined();
    const trial = report.trials[0]!;
    const [once, takeovers] = trial.invariants;
    expect(once!.holds, once!.summary).toBe(true);
    expect(once!.summary).toMatch(/no tick missed \((\d+) expected/);
    expect(Number(/\((\d+) expected/.exec(once!.summary)![1])).toBeGreaterThanOrEqual(8);
    console.log(`takeovers after the kill: ${takeovers!.witnessCount} (${takeovers!.summary})`);
    expect(trial.faults).toHaveLength(1);
    const kill = trial.faults![0]!;
    expect(kill).toMatchObject({ type: 'kill-replica', target: 'replica 1', outcome: 'applied', atMs: 5000 });
    expect(kill.startMs).toBeGreaterThanOrEqual(5000);
    expect(kill.endMs).toBeUndefined();
    expect(kill.detail).toMatch(/^SIGKILL pid \d+$/);
    expect(pendingCleanups()).toEqual([]);
  });

  it('rejects a fault planned after the end of the load, with line and column', () => {
    const text = readFileSync(FAILOVER, 'utf8').replace('at: 5s', 'at: 12s');
    const line = text.split('\n').findIndex((l) => l.includes('at: 12s')) + 1;
    let err: unknown;
    try {
      parseScenario(text, FAILOVER);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ScenarioError);
    expect((err as ScenarioError).issues).toEqual([
      expect.objectContaining({
        line,
        column: 5,
        field: 'faults.0.at',
        message: expect.stringMatching(/12 s is not before the end of the load \(10 s\)/),
      }),
    ]);
  });
});
