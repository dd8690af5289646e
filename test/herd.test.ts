import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { pendingCleanups } from '../src/env/teardown.js';
import { ScenarioError } from '../src/errors.js';
import type { HerdReport } from '../src/invariants/herd-analysis.js';
import type { RunReport, TrialReport } from '../src/report/types.js';
import { runScenario } from '../src/run.js';
import { loadScenario, parseScenario } from '../src/scenario/load.js';
import type { Scenario } from '../src/scenario/types.js';
import { leftovers, markTest } from './helpers.js';

/**
 * The thundering herd end to end: a retrying service (the Node `checkout` target, and the Python
 * `py-checkout` target that numbers its attempts from 0), the upstream stub behind the HTTP fault
 * proxy, a 5 s outage that fails every call in flight. Needs `npm run build`.
 *
 * On a busy machine the herd invariant says `unknown` when the load generator could not keep its
 * schedule. A run whose trials all came out `unknown` is run again (up to `RUNS` times); if none was
 * judged the test fails — a CI where every trial is unknown has checked nothing. A trial may be unknown
 * only for that reason: any other unknown fails at once, and no trial may give the wrong verdict.
 */
const NODE = resolve('scenarios/thundering-herd.yaml');
const PYTHON = resolve('scenarios/thundering-herd-python.yaml');
const RUNS = 3;
const out = mkdtempSync(join(tmpdir(), 'whatbreaks-herd-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** Marks what each test starts (`markTest`), so its leftovers are its own, not other runs' on the machine. */
let mark: string;
beforeEach(() => {
  mark = markTest();
});

const verdicts = (r: RunReport) => r.trials.map((t) => t.verdict);
const herdOf = (t: TrialReport) => t.invariants.find((i) => i.type === 'herd')!;
let runs = 0;

/**
 * Run `variant` of `scenario` until a run has a judged trial, at most `RUNS` runs; fails when none was
 * judged, or when a trial was unknown for any reason but a lagging load generator.
 */
async function judged(
  scenario: Scenario,
  variant: string,
  trials = 2,
): Promise<{ report: RunReport; runDir: string }> {
  const why: string[] = [];
  for (let run = 1; run <= RUNS; run++) {
    const r = await runScenario(scenario, { variant, trials, outDir: join(out, `${++runs}-${variant}`) });
    expect(r.report.error).toBeUndefined();
    for (const t of r.report.trials.filter((x) => x.verdict === 'unknown')) {
      const summary = t.invariants.map((i) => `${i.name}: ${i.summary}`).join('; ');
      expect(summary, 'a trial may be unknown only because the load generator lagged').toMatch(
        /the load generator sent up to \d+ ms late/,
      );
      why.push(`run ${run} trial ${t.trial}: ${herdOf(t).summary}`);
    }
    if (r.report.trials.some((t) => t.verdict !== 'unknown')) return r;
  }
  throw new Error(`no trial of ${RUNS} runs could be judged (the machine was too busy):\n${why.join('\n')}`);
}

/** The witness wave that started within 900 ms of `ms` after the outage start (waves smear under load). */
function near(t: TrialReport, ms: number): Record<string, unknown> | undefined {
  return herdOf(t).witnesses.find((w) => Math.abs((w.sinceOutageMs as number) - ms) <= 900);
}

/**
 * Expect the retry clock's waves: near +1 s and +3 s after the outage start, and a third after +5 s
 * (due at +7 s; on a loaded machine a wave that has been through three sleeps can drift by a second).
 * With an attempt header each is mostly retries; from counts alone each holds at least `minWaveSize`
 * calls over the traffic around it.
 */
function expectWaves(t: TrialReport): void {
  const inv = herdOf(t);
  const herd = t.herd as HerdReport;
  expect(inv.holds).toBe(false);
  const all = JSON.stringify(inv.witnesses);
  for (const ms of [1_000, 3_000]) expect(near(t, ms), `a wave near +${ms} ms in ${all}`).toBeDefined();
  const third = inv.witnesses.find((w) => (w.sinceOutageMs as number) > 5_000);
  expect(third, `a wave after +5 s in ${all}`).toBeDefined();
  for (const w of [near(t, 1_000)!, near(t, 3_000)!, third!]) {
    if (herd.retriesFrom === 'header') expect(w.retries as number).toBeGreaterThan((w.size as number) / 2);
    expect(w.excess as number).toBeGreaterThanOrEqual(herd.minWaveSize);
  }
}

describe('thundering herd (Node checkout, 1-based x-attempt)', () => {
  it('buggy: retries without jitter come back in waves at +1 s, +3 s, +7 s after the outage start', async () => {
    const { report, runDir } = await judged(loadScenario(NODE), 'buggy');
    expect(verdicts(report)).not.toContain('pass');
    const t = report.trials.find((x) => x.verdict === 'fail')!;
    // The outage on the timeline, with the calls it failed in flight.
    const outage = t.faults!.find((f) => f.type === 'upstream-down')!;
    expect(outage).toMatchObject({ outcome: 'applied', target: 'upstream' });
    expect(outage.endMs! - outage.startMs).toBeGreaterThanOrEqual(4_900);
    expect(outage.detail).toMatch(/fail-in-flight: \d+ in flight/);
    expect(Number(/(\d+) in flight/.exec(outage.detail)![1])).toBeGreaterThan(100);
    // Per-bucket arrival counts in report.json.
    const written = JSON.parse(readFileSync(join(runDir, 'report.json'), 'utf8')) as RunReport;
    const herd = written.trials[t.trial - 1]!.herd as HerdReport;
    expect(herd.bucketMs).toBe(50);
    expect(herd.buckets.length).toBeGreaterThan(200);
    expect(herd.buckets.reduce((s, b) => s + b.count, 0)).toBeGreaterThan(1_000);
    expect(herd.outage.startMs).toBeCloseTo(outage.startMs, 0);
    expect(herd.retriesFrom).toBe('header');
    expect(herd.minWaveSize).toBe(Math.max(10, Math.ceil(herd.inFlightAtOutage / 2)));
    expectWaves(t);
    expect(Math.max(...herdOf(t).witnesses.map((w) => w.size as number))).toBeGreaterThanOrEqual(150);
    expect(herd.peakToMean).toBeGreaterThan(5);
    expect(existsSync(join(runDir, 'report.html'))).toBe(true);
    expect(pendingCleanups()).toEqual([]);
  }, 900_000);

  it('fixed: full jitter, no waves', async () => {
    const { report } = await judged(loadScenario(NODE), 'fixed');
    const summaries = report.trials.map((t) => t.invariants.map((i) => i.summary).join('; ')).join(' | ');
    expect(verdicts(report), summaries).not.toContain('fail');
    const t = report.trials.find((x) => x.verdict === 'pass')!;
    // The scenario tolerates one burst (`maxWaves: 1`): a single jittered cluster is not a herd.
    expect((t.herd as HerdReport).waves.length).toBeLessThanOrEqual(1);
    expect((t.herd as HerdReport).peakToMean).toBeLessThanOrEqual(6);
    expect(pendingCleanups()).toEqual([]);
    expect(await leftovers(mark)).toEqual({ processes: [], dirs: [] });
  }, 900_000);

  it('a replica killed mid-run is on the timeline and the run still writes its report', async () => {
    // Two checkout replicas, a shorter run; replica 1 is killed during the outage and stays down.
    const text = readFileSync(NODE, 'utf8')
      .replace('health: { path: /health }', 'health: { path: /health }\n  replicas: 2')
      .replace('durationMs: 14s', 'durationMs: 6s')
      .replace(
        /faults:\n(.*\n)/,
        (_m, outageLine: string) => `faults:\n${outageLine}  - { type: kill-replica, at: 3s, replica: 1 }\n`,
      );
    expect(text).toContain('kill-replica');
    const { report, runDir } = await runScenario(parseScenario(text, NODE), {
      variant: 'fixed',
      trials: 1,
      outDir: join(out, 'kill'),
    });
    expect(report.error).toBeUndefined();
    const t = report.trials[0]!;
    expect(t.faults!.map((f) => [f.type, f.outcome])).toEqual([
      ['upstream-down', 'applied'],
      ['kill-replica', 'applied'],
    ]);
    expect(t.faults![1]).toMatchObject({
      target: 'replica 1',
      detail: expect.stringMatching(/^SIGKILL pid \d+/),
    });
    expect(t.faults![1]!.endMs).toBeUndefined();
    expect(t.herd).toBeDefined();
    expect(existsSync(join(runDir, 'report.json'))).toBe(true);
    expect(pendingCleanups()).toEqual([]);
  });

  it('rejects faults on dependencies that do not exist or have the wrong proxy, at their line', () => {
    const text = readFileSync(NODE, 'utf8').replace(
      /faults:\n(.*\n)/,
      `faults:\n  - { type: upstream-down, at: 2s, for: 5s, dependency: stock }\n  - { type: toxic, at: 1s, proxy: upstream, toxic: { type: latency, attributes: { latency: 100 } } }\n`,
    );
    let err: unknown;
    try {
      parseScenario(text, NODE);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ScenarioError);
    const issues = (err as ScenarioError).issues;
    expect(issues.map((i) => i.message)).toEqual([
      "no dependency named 'stock'; behind HTTP proxies: upstream",
      "dependency 'upstream' has proxy: http; toxics need proxy: tcp",
    ]);
    expect(issues[0]!.field).toBe('faults.0');
    expect(issues[0]!.line).toBeGreaterThan(1);
  });
});

describe('thundering herd (Python py-checkout, 0-based x-retry-count)', () => {
  /** The scenario without its attempt header lines: the herd invariant's defaults, counts alone. */
  const countsOnly = () => {
    const text = readFileSync(PYTHON, 'utf8');
    const stripped = text.replace(/^ {4}attemptHeader: .*\n/m, '').replace(/^ {4}firstAttempt: .*\n/m, '');
    const scenario = parseScenario(stripped, PYTHON);
    expect(scenario.invariants[0]).toMatchObject({ type: 'herd', firstAttempt: 1 });
    expect(scenario.invariants[0]).not.toHaveProperty('attemptHeader');
    return scenario;
  };

  it('buggy: waves at +1 s, +3 s, +7 s, the first retries counted as retries (firstAttempt: 0)', async () => {
    const { report } = await judged(loadScenario(PYTHON), 'buggy');
    expect(verdicts(report)).not.toContain('pass');
    const t = report.trials.find((x) => x.verdict === 'fail')!;
    const herd = t.herd as HerdReport;
    expect(herd.retriesFrom).toBe('header');
    expect(herdOf(t).summary).toContain("retries from 'x-retry-count'");
    expectWaves(t);
    // The +1 s wave is made of first retries (`x-retry-count: 1`): read as 1-based they were first tries.
    const first = near(t, 1_000)!;
    expect(first.retries as number).toBeGreaterThan((first.size as number) / 2);
    expect(pendingCleanups()).toEqual([]);
  }, 900_000);

  it('buggy, default options (no attempt header read): the same waves from the counts alone', async () => {
    const { report } = await judged(countsOnly(), 'buggy', 1);
    expect(verdicts(report)).not.toContain('pass');
    const t = report.trials.find((x) => x.verdict === 'fail')!;
    expect((t.herd as HerdReport).retriesFrom).toBe('excess');
    expect(herdOf(t).summary).toContain("no 'x-attempt' header: waves from counts alone");
    expectWaves(t);
  }, 900_000);

  it('fixed: full jitter, no waves, with the header and from the counts alone', async () => {
    for (const [scenario, trials] of [
      [loadScenario(PYTHON), 2],
      [countsOnly(), 1],
    ] as const) {
      const { report } = await judged(scenario, 'fixed', trials);
      const summaries = report.trials.map((t) => t.invariants.map((i) => i.summary).join('; ')).join(' | ');
      expect(verdicts(report), summaries).not.toContain('fail');
      const t = report.trials.find((x) => x.verdict === 'pass')!;
      expect((t.herd as HerdReport).waves.length).toBeLessThanOrEqual(1);
    }
    expect(pendingCleanups()).toEqual([]);
    expect(await leftovers(mark)).toEqual({ processes: [], dirs: [] });
  }, 1_800_000);

  it('rejects an attempt header the dependency does not record, at its line', () => {
    const text = readFileSync(PYTHON, 'utf8').replace(
      'recordHeaders: [x-client-id, x-retry-count]',
      'recordHeaders: [x-client-id]',
    );
    let err: unknown;
    try {
      parseScenario(text, PYTHON);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ScenarioError);
    const issues = (err as ScenarioError).issues;
    expect(issues.map((i) => i.message)).toEqual([
      "dependency 'upstream' does not record 'x-retry-count': add it to dependencies.upstream.recordHeaders",
    ]);
    expect(issues[0]!.field).toBe('invariants.0.attemptHeader');
    expect(issues[0]!.line).toBe(text.split('\n').findIndex((l) => l.includes('attemptHeader:')) + 1);
  });
});
