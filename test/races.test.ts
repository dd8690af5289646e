import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { pendingCleanups } from '../src/env/teardown.js';
import type { RunReport } from '../src/report/types.js';
import { runScenario } from '../src/run.js';
import { loadScenario, parseScenario } from '../src/scenario/load.js';
import { CLI, cli, leftovers, markTest, ROOT } from './helpers.js';

/**
 * The foundation's promise, end to end: real PostgreSQL (embedded), real targets as child processes,
 * a real burst over sockets. The buggy variants must be caught, the fixed ones must pass, and nothing
 * may be left running.
 */
const TRIALS = 3;
/** Marks what each test starts (see `markTest`): its leftovers are found by it, not by a machine-wide search. */
let mark: string;
beforeEach(() => {
  mark = markTest();
});

function outDir(): string {
  return mkdtempSync(join(tmpdir(), 'whatbreaks-test-run-'));
}

async function run(scenario: string, variant: string): Promise<RunReport> {
  const s = loadScenario(join(ROOT, 'scenarios', scenario));
  const { report, reportFile } = await runScenario(s, { variant, trials: TRIALS, outDir: outDir() });
  // report.json on disk is the same data the API returned.
  expect(JSON.parse(readFileSync(reportFile, 'utf8')).verdict).toBe(report.verdict);
  expect(pendingCleanups()).toEqual([]);
  expect(await leftovers(mark)).toEqual({ processes: [], dirs: [] });
  return report;
}

function violated(report: RunReport, invariant: string): number {
  return report.trials.filter((t) => t.invariants.some((i) => i.name === invariant && i.holds === false))
    .length;
}

describe('double-booking', () => {
  it('buggy: the truck is overbooked in every trial, and the witness names the truck and its total', async () => {
    const report = await run('double-booking.yaml', 'buggy');
    expect(report.error).toBeUndefined();
    expect(report.verdict).toBe('fail');
    expect(violated(report, 'no-overbooking')).toBeGreaterThanOrEqual(TRIALS - 1);
    const witness = report.trials
      .flatMap((t) => t.invariants)
      .find((i) => i.name === 'no-overbooking' && i.holds === false)?.witnesses[0];
    expect(witness).toMatchObject({ truck: 1, capacity_kg: 1000 });
    expect(Number(witness?.booked_kg)).toBeGreaterThan(1000);
  });

  it('fixed: every invariant holds in every trial; exactly 100 bookings fit', async () => {
    const report = await run('double-booking.yaml', 'fixed');
    expect(report.verdict).toBe('pass');
    expect(report.summary).toMatchObject({ trials: TRIALS, passed: TRIALS, failed: 0, unknown: 0 });
    for (const t of report.trials) expect(t.load.statusCounts).toEqual({ '201': 100, '409': 100 });
  });

  it('mutex (an in-process lock per truck): holds on one instance, overbooks behind two replicas', async () => {
    const one = await run('double-booking.yaml', 'mutex');
    expect(one.verdict).toBe('pass');
    for (const t of one.trials) expect(t.load.statusCounts).toEqual({ '201': 100, '409': 100 });
    const two = await run('double-booking-replicas.yaml', 'mutex');
    expect(two.verdict).toBe('fail');
    // Each replica had a lock of its own: two bookings at once, overbooked.
    expect(violated(two, 'no-overbooking')).toBeGreaterThanOrEqual(TRIALS - 1);
    for (const t of two.trials) expect(t.load.arrivalSpreadMs).toBeGreaterThan(0);
  });
});

describe('single-completion', () => {
  it('buggy: a 5xx and more than one completion are named', async () => {
    const report = await run('single-completion.yaml', 'buggy');
    expect(report.verdict).toBe('fail');
    expect(violated(report, 'single-completion')).toBeGreaterThanOrEqual(TRIALS - 1);
    const t = report.trials.find((t) => t.verdict === 'fail')!;
    const responses = t.invariants.find((i) => i.name === 'exactly-one-completion-response')!;
    expect(responses.holds).toBe(false);
    expect(responses.witnesses.some((w) => w.status === 500)).toBe(true);
    const completions = t.invariants.find((i) => i.name === 'single-completion')!;
    expect(completions.holds).toBe(false);
    expect(Number(completions.witnesses[0]?.completions)).toBeGreaterThanOrEqual(2);
  });

  it('fixed: exactly one 200 and the rest 409', async () => {
    const report = await run('single-completion.yaml', 'fixed');
    expect(report.verdict).toBe('pass');
    for (const t of report.trials) expect(t.load.statusCounts).toEqual({ '200': 1, '409': 19 });
  });
});

describe('maxSpreadMs', () => {
  async function withMaxSpread(maxSpreadMs: number): Promise<RunReport> {
    const s = loadScenario(join(ROOT, 'scenarios', 'single-completion.yaml'));
    const scenario = { ...s, load: { ...s.load, sync: 'naive', maxSpreadMs } as typeof s.load };
    const { report } = await runScenario(scenario, { variant: 'fixed', trials: 2, outDir: outDir() });
    return report;
  }

  it('a burst looser than maxSpreadMs makes the trial unknown, not pass, and says by how much', async () => {
    // 20 naive requests are never sent within a nanosecond.
    const report = await withMaxSpread(0.000001);
    expect(report.verdict).toBe('unknown');
    for (const t of report.trials) {
      expect(t.verdict).toBe('unknown');
      expect(t.inconclusive).toMatch(/send spread \d+\.\d+ ms is looser than maxSpreadMs 0\.000001 ms/);
      expect(t.load.sendSpreadMs).toBeGreaterThan(0.000001);
    }
  });

  it('a burst within maxSpreadMs is judged as usual', async () => {
    const report = await withMaxSpread(60_000);
    expect(report.verdict).toBe('pass');
    expect(report.trials.every((t) => t.inconclusive === undefined)).toBe(true);
    // One replica: no balancer, so no arrival spread is observed.
    expect(report.trials.every((t) => t.load.arrivalSpreadMs === undefined)).toBe(true);
  });

  it('behind the balancer (2 replicas) the arrival spread at the replicas is reported and judged too', async () => {
    const s = loadScenario(join(ROOT, 'scenarios', 'single-completion.yaml'));
    const run = async (maxSpreadMs: number) => {
      const scenario = {
        ...s,
        target: { ...s.target, replicas: 2 },
        load: { ...s.load, sync: 'last-byte', maxSpreadMs } as typeof s.load,
      };
      return (await runScenario(scenario, { variant: 'fixed', trials: 2, outDir: outDir() })).report;
    };
    const judged = await run(60_000);
    expect(judged.verdict).toBe('pass');
    for (const t of judged.trials) {
      expect(t.load.arrivalSpreadMs).toBeGreaterThan(0);
      // Only the burst counts: the senders' warm-up requests went through the balancer holdMs (100 ms)
      // and more before the release.
      expect(t.load.arrivalSpreadMs).toBeLessThan(100);
      expect(t.load.sendSpreadMs).toBeGreaterThan(0);
    }
    const loose = await run(0.000001);
    expect(loose.verdict).toBe('unknown');
    for (const t of loose.trials) {
      expect(t.inconclusive).toMatch(
        /arrival spread at the replicas \d+\.\d+ ms \(through the load balancer\) is looser than maxSpreadMs 0\.000001 ms/,
      );
    }
  });
});

describe('a fault that did not happen as written', () => {
  it('leaves a passing trial unknown, naming the fault, and a violation still fails', async () => {
    // One fault whose replica query never names a replica (it fails after 50 ms), one due long after the
    // burst has ended (skipped).
    const file = join(ROOT, 'scenarios', 'single-completion.yaml');
    const text = `${readFileSync(file, 'utf8')}
faults:
  - { type: kill-replica, at: 0s, replicaQuery: 'SELECT NULL', waitMs: 50ms }
  - { type: pg-terminate-backends, at: 60s }
`;
    const scenario = parseScenario(text, file);
    const fixed = (await runScenario(scenario, { variant: 'fixed', trials: 1, outDir: outDir() })).report;
    expect(fixed.verdict).toBe('unknown');
    const t = fixed.trials[0]!;
    expect(t.invariants.every((i) => i.holds === true)).toBe(true);
    expect(t.faults!.map((f) => f.outcome)).toEqual(['failed', 'skipped']);
    expect(t.inconclusive).toMatch(
      /fault kill-replica \(replica \(replicaQuery\)\) at 0 ms failed: replicaQuery returned no row within 50 ms.*; fault pg-terminate-backends \(postgres \(all replicas\)\) at 60000 ms was not applied: the load ended first/,
    );
    const buggy = (await runScenario(scenario, { variant: 'buggy', trials: 1, outDir: outDir() })).report;
    expect(buggy.verdict).toBe('fail');
  });
});

describe('database.fsync', () => {
  async function fsyncSetting(fsync: boolean | undefined): Promise<RunReport> {
    const s = loadScenario(join(ROOT, 'scenarios', 'single-completion.yaml'));
    const scenario = {
      ...s,
      database: { ...s.database, ...(fsync === undefined ? {} : { fsync }) },
      invariants: [
        ...s.invariants,
        {
          type: 'sql',
          name: 'fsync-as-configured',
          query: `SELECT current_setting('fsync') AS fsync WHERE current_setting('fsync') <> '${fsync === false ? 'off' : 'on'}'`,
        },
      ],
    } as typeof s;
    const { report } = await runScenario(scenario, { variant: 'fixed', trials: 1, outDir: outDir() });
    return report;
  }

  it('is on unless the scenario turns it off', async () => {
    expect((await fsyncSetting(undefined)).verdict).toBe('pass');
    expect((await fsyncSetting(false)).verdict).toBe('pass');
  });
});

describe('the CLI', () => {
  it('exits 1 on a violation and 0 when every invariant holds, writing report.json in --out', async () => {
    const dir = outDir();
    const bad = cli([
      'run',
      'scenarios/single-completion.yaml',
      '--variant',
      'buggy',
      '--trials',
      '2',
      '--out',
      join(dir, 'b'),
    ]);
    expect(bad.code, bad.stderr).toBe(1);
    // Nothing the CLI started is left: its processes (they carry this test's mark) nor its data folder.
    expect(await leftovers(mark, bad.pid)).toEqual({ processes: [], dirs: [] });
    expect(bad.stdout).toMatch(/VIOLATED single-completion/);
    expect(bad.stdout).toMatch(/job 1 completed \d+ times/);
    expect(JSON.parse(readFileSync(join(dir, 'b', 'report.json'), 'utf8')).summary.trials).toBe(2);
    const good = cli([
      'run',
      'scenarios/single-completion.yaml',
      '--variant',
      'fixed',
      '--trials',
      '2',
      '--out',
      join(dir, 'g'),
    ]);
    expect(good.code, good.stderr).toBe(0);
    expect(good.stdout).toMatch(/PASS/);
    expect(CLI).toBeTruthy();
  });

  it('exits 2 naming the variants when the variant does not exist', () => {
    const r = cli(['run', 'scenarios/single-completion.yaml', '--variant', 'fixd']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no variant 'fixd'/);
    expect(r.stderr).toMatch(/buggy, fixed/);
  });
});
