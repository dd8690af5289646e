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

  it('fixed, the replica running a task killed at 5 s: its tick taken over after the lease, exactly once, none missed', async () => {
    // The scenario kills whichever replica holds a claim taken < 300 ms ago (of a 900 ms task), so the
    // survivor must take that tick over once the 2 s lease expires. The second invariant lists the
    // claims that were taken over (claims > 1) with their ledger rows: at least one must be there, or
    // the takeover path was not exercised (a fixed `replica: 1` killed the idle replica in some runs).
    const text = readFileSync(FAILOVER, 'utf8').replace(
      'trials: 1',
      `  - type: sql
    name: takeovers
    query: >-
      SELECT c.task, c.tick, c.instance, c.claims, count(e.id)::int AS executions,
             string_agg(e.instance, ',') AS executed_by
      FROM task_claims c LEFT JOIN task_executions e USING (task, tick)
      WHERE c.claims > 1 GROUP BY c.task, c.tick, c.instance, c.claims
trials: 1`,
    );
    const { report } = await runScenario(parseScenario(text, FAILOVER), {
      variant: 'fixed',
      outDir: join(out, 'failover'),
    });
    expect(report.error).toBeUndefined();
    const trial = report.trials[0]!;
    expect(trial.faults).toHaveLength(1);
    const kill = trial.faults![0]!;
    expect(kill, kill.error).toMatchObject({ type: 'kill-replica', outcome: 'applied', atMs: 5000 });
    expect(kill.target).toMatch(/^replica [01]$/);
    expect(kill.startMs).toBeGreaterThanOrEqual(5000);
    expect(kill.endMs).toBeUndefined();
    expect(kill.detail).toMatch(/^chosen by replicaQuery after \d+ ms; SIGKILL pid \d+$/);
    const survivor = kill.target === 'replica 0' ? '1' : '0';

    const [once, takeovers] = trial.invariants;
    console.log(
      `takeovers after the kill of ${kill.target}: ${takeovers!.witnessCount} (${takeovers!.summary})`,
    );
    expect(once!.holds, once!.summary).toBe(true);
    expect(once!.summary).toMatch(/no tick missed \((\d+) expected/);
    expect(Number(/\((\d+) expected/.exec(once!.summary)![1])).toBeGreaterThanOrEqual(8);
    // The takeover happened, by the survivor, and the tick it took over ran exactly once (by it).
    expect(
      takeovers!.witnessCount,
      'no claim was taken over: the lease-expiry path did not run',
    ).toBeGreaterThanOrEqual(1);
    for (const w of takeovers!.witnesses)
      expect(w).toMatchObject({ instance: survivor, executions: 1, executed_by: survivor });
    expect(pendingCleanups()).toEqual([]);
  });

  it('rejects a fault planned after the end of the load, with line and column', () => {
    const text = readFileSync(FAILOVER, 'utf8').replace('at: 5s', 'at: 15s');
    const line = text.split('\n').findIndex((l) => l.includes('at: 15s')) + 1;
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
        message: expect.stringMatching(/15 s is not before the end of the load \(12 s\)/),
      }),
    ]);
  });
});
