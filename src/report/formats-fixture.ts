import type { RequestRecord } from '../load/types.js';
import type { RunReport, TrialReport } from './types.js';

/**
 * A small, fully known report for the renderers' unit tests: 2 trials of a 6-request burst; trial 2
 * violates `no-overbooking` with hostile witness text (pipes, markup, quotes, a control character)
 * and carries a fault window, herd buckets and RSS samples. Numbers are chosen so tests can count
 * marks: 6 records with a response per trial, 1 without.
 */
export function fixtureReport(): RunReport {
  const records = (trial: number): RequestRecord[] => [
    ...Array.from({ length: 6 }, (_, i) => ({
      index: i,
      connection: i,
      sentAtMs: 100 + i * 2,
      status: i === 5 && trial === 2 ? 500 : i === 0 ? 201 : 409,
      latencyMs: 10 + i * 5,
    })),
    { index: 6, connection: 6, sentAtMs: 112, error: 'ECONNRESET' },
  ];
  const trial = (n: number): TrialReport => ({
    trial: n,
    verdict: n === 2 ? 'fail' : 'pass',
    startedAt: '2026-11-23T10:00:0' + n + '.123Z',
    durationMs: 812.5,
    load: {
      kind: 'burst',
      sync: 'barrier',
      requests: 7,
      sendSpreadMs: 10,
      statusCounts:
        n === 2
          ? { '201': 1, '409': 4, '500': 1, 'error:ECONNRESET': 1 }
          : { '201': 1, '409': 5, 'error:ECONNRESET': 1 },
      latency: { count: 6, p50: 20, p90: 35, p99: 35, p999: 35, max: 35, mean: 22.5 },
      warnings: [],
      records: records(n),
    },
    invariants: [
      n === 2
        ? {
            name: 'no-overbooking',
            type: 'sql',
            holds: false,
            summary: 'truck 1 holds 3 bookings, 30 kg of 20 kg',
            witnesses: [
              { truck: 1, note: 'a|b <script>alert("x")</script> & \'q\' \u0001 end' },
              { truck: 2, note: 'multi\nline' },
            ],
            witnessCount: 5,
          }
        : {
            name: 'no-overbooking',
            type: 'sql',
            holds: true,
            summary: 'no violating rows',
            witnesses: [],
            witnessCount: 0,
          },
      {
        name: 'answers',
        type: 'responses',
        holds: n === 2 ? 'unknown' : true,
        summary: n === 2 ? 'could not tell' : 'ok',
        witnesses: [],
        witnessCount: 0,
      },
    ],
  });
  const t2 = trial(2) as TrialReport & Record<string, unknown>;
  t2.faults = [
    { type: 'kill-replica', atMs: 0, startMs: 104, endMs: 108, detail: 'SIGKILL', outcome: 'applied' },
  ];
  // Bare counts plus the waves the analysis would report (renderers accept both shapes).
  t2.herd = {
    bucketMs: 100,
    buckets: [3, 9, 1, 0, 12],
    waves: [
      { startMs: 100, sinceOutageMs: 0, size: 9, buckets: 1 },
      { startMs: 400, sinceOutageMs: 300, gapMs: 300, size: 12, buckets: 1 },
    ],
  } as unknown as TrialReport['herd'];
  t2.rss = [
    {
      replica: 1,
      pid: 42,
      peakMiB: 80,
      peakAtMs: 400,
      timeline: [
        [0, 50],
        [400, 80],
        [800, 60],
      ],
      oomKilled: false,
    },
  ];
  return {
    schemaVersion: 1,
    tool: { name: 'whatbreaks', version: '0.1.0', node: 'v20.20.2' },
    scenario: { name: 'fixture', file: '/x/fixture.yaml', description: 'a | b' },
    variant: 'buggy',
    environment: { kind: 'local', reason: 'test' },
    startedAt: '2026-11-23T10:00:00.000Z',
    durationMs: 2000,
    verdict: 'fail',
    aborted: false,
    summary: { trials: 2, passed: 1, failed: 1, unknown: 0, aborted: 0, reproductionRate: 0.5 },
    trials: [trial(1), t2],
  };
}

/**
 * A run that broke off before its first trial: the target exited at start (`TARGET_FAILED`, with its last
 * log lines in the message, as `target-process.ts` writes them). No trial, so no rate and no interval.
 */
export function brokenOffReport(): RunReport {
  const r = fixtureReport();
  return {
    ...r,
    verdict: 'unknown',
    trials: [],
    summary: { trials: 0, passed: 0, failed: 0, unknown: 0, aborted: 0, reproductionRate: 0 },
    error: {
      code: 'TARGET_FAILED',
      message:
        'target exited before it became healthy (exit code 1)\nlast lines of /r/logs/target-1.log:\n  | Error: listen EADDRINUSE\n  |     at Server.listen (node:net:1)\n  | ```fence``` <b>',
      hint: 'its whole log: /r/logs/target-1.log',
    },
  };
}

/** One trial whose load sent nothing (it failed before its first request): `unknown`, no latency. */
export function emptyTrialReport(): RunReport {
  const r = fixtureReport();
  const t = r.trials[0]!;
  const empty: TrialReport = {
    ...t,
    verdict: 'unknown',
    inconclusive: 'the load failed: ECONNREFUSED',
    invariants: [],
    load: {
      ...t.load,
      requests: 0,
      sendSpreadMs: undefined,
      statusCounts: {},
      latency: { count: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0 },
      records: [],
    },
  };
  return {
    ...r,
    verdict: 'unknown',
    trials: [empty],
    summary: { trials: 1, passed: 0, failed: 0, unknown: 1, aborted: 0, reproductionRate: 0 },
  };
}
