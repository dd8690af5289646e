import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { pendingCleanups } from '../src/env/teardown.js';
import { ScenarioError } from '../src/errors.js';
import type { HerdReport } from '../src/invariants/herd-analysis.js';
import type { RunReport } from '../src/report/types.js';
import { runScenario } from '../src/run.js';
import { loadScenario, parseScenario } from '../src/scenario/load.js';
import { leftovers, markTest } from './helpers.js';

/**
 * The thundering herd end to end: 1,000 clients, the checkout target, the upstream stub behind the HTTP
 * fault proxy, a 5 s outage that fails everything in flight. Needs `npm run build`.
 *
 * Two trials per variant: on a busy machine the herd invariant says `unknown` when the load generator
 * could not keep its schedule, so a trial may be unjudged; none may give the wrong verdict. When the
 * machine was too busy to judge any trial, the test is skipped (saying so) rather than passed.
 */
const SCENARIO = resolve('scenarios/thundering-herd.yaml');
const out = mkdtempSync(join(tmpdir(), 'whatbreaks-herd-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));
/** Marks what each test starts (`markTest`), so its leftovers are its own, not other runs' on the machine. */
let mark: string;
beforeEach(() => {
  mark = markTest();
});

const verdicts = (r: RunReport) => r.trials.map((t) => t.verdict);

describe('thundering herd', () => {
  it('buggy: retries without jitter come back in waves at +1 s, +3 s, +7 s after the outage start', async (ctx) => {
    const { report, runDir } = await runScenario(loadScenario(SCENARIO), {
      variant: 'buggy',
      trials: 2,
      outDir: join(out, 'buggy'),
    });
    expect(report.error).toBeUndefined();
    expect(verdicts(report)).not.toContain('pass');
    if (verdicts(report).every((v) => v === 'unknown')) ctx.skip('the machine was too busy to judge a trial');
    expect(verdicts(report)).toContain('fail');
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
    // The waves: one about 1 s, one about 3 s and one about 7 s after the outage start, made of retries.
    const inv = t.invariants.find((i) => i.type === 'herd')!;
    expect(inv.holds).toBe(false);
    // (Under load a wave is smeared and may start a few hundred ms late, or split in two.)
    const near = (ms: number) => inv.witnesses.find((w) => Math.abs((w.sinceOutageMs as number) - ms) <= 900);
    for (const ms of [1_000, 3_000, 7_000]) {
      expect(near(ms), `a wave near +${ms} ms in ${JSON.stringify(inv.witnesses)}`).toBeDefined();
      expect(near(ms)!.retries as number).toBeGreaterThan((near(ms)!.size as number) / 2);
    }
    expect(Math.max(...inv.witnesses.map((w) => w.size as number))).toBeGreaterThanOrEqual(150);
    expect(herd.peakToMean).toBeGreaterThan(5);
    expect(existsSync(join(runDir, 'report.html'))).toBe(true);
    expect(pendingCleanups()).toEqual([]);
  });

  it('fixed: full jitter, no waves', async (ctx) => {
    const { report } = await runScenario(loadScenario(SCENARIO), {
      variant: 'fixed',
      trials: 2,
      outDir: join(out, 'fixed'),
    });
    expect(report.error).toBeUndefined();
    const summaries = report.trials.map((t) => t.invariants.map((i) => i.summary).join('; ')).join(' | ');
    expect(verdicts(report), summaries).not.toContain('fail');
    if (verdicts(report).every((v) => v === 'unknown')) ctx.skip('the machine was too busy to judge a trial');
    expect(verdicts(report)).toContain('pass');
    const t = report.trials.find((x) => x.verdict === 'pass')!;
    // The scenario tolerates one burst (`maxWaves: 1`): a single jittered cluster is not a herd.
    expect((t.herd as HerdReport).waves.length).toBeLessThanOrEqual(1);
    expect((t.herd as HerdReport).peakToMean).toBeLessThanOrEqual(6);
    expect(pendingCleanups()).toEqual([]);
    expect(await leftovers(mark)).toEqual({ processes: [], dirs: [] });
  });

  it('a replica killed mid-run is on the timeline and the run still writes its report', async () => {
    // Two checkout replicas, a shorter run; replica 1 is killed during the outage and stays down.
    const text = readFileSync(SCENARIO, 'utf8')
      .replace('health: { path: /health }', 'health: { path: /health }\n  replicas: 2')
      .replace('durationMs: 14s', 'durationMs: 6s')
      .replace(
        /faults:\n(.*\n)/,
        (_m, outageLine: string) => `faults:\n${outageLine}  - { type: kill-replica, at: 3s, replica: 1 }\n`,
      );
    expect(text).toContain('kill-replica');
    const { report, runDir } = await runScenario(parseScenario(text, SCENARIO), {
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
    const text = readFileSync(SCENARIO, 'utf8').replace(
      /faults:\n(.*\n)/,
      `faults:\n  - { type: upstream-down, at: 2s, for: 5s, dependency: stock }\n  - { type: toxic, at: 1s, proxy: upstream, toxic: { type: latency, attributes: { latency: 100 } } }\n`,
    );
    let err: unknown;
    try {
      parseScenario(text, SCENARIO);
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
