import { describe, expect, it } from 'vitest';
import type { AggregateLoad } from '../load/closed-model.js';
import type { LoadResult, RequestRecord } from '../load/types.js';
import { config, create } from './threshold.js';
import type { QueryableDatabase } from './types.js';

const noDb: QueryableDatabase = {
  query: () => Promise.reject(new Error('threshold must not query the database')),
};

/** A request with a status and latency, or `error` (no response). */
function rec(index: number, status: number | 'error', latencyMs = 10, extra: Partial<RequestRecord> = {}) {
  return {
    index,
    connection: 0,
    sentAtMs: index,
    ...(status === 'error' ? { error: 'ETIMEDOUT' } : { status, latencyMs }),
    ...extra,
  } satisfies RequestRecord;
}

function load(records: RequestRecord[], more: Partial<LoadResult> = {}): LoadResult {
  return { kind: 'burst', records, startedAtMs: 0, durationMs: 1000, warnings: [], ...more };
}

async function check(block: { metric?: string; expr: string }, l: LoadResult) {
  const cfg = config.parse({ type: 'threshold', name: 't', ...block });
  return create(cfg).check({ trial: 1, db: noDb, load: l });
}

/** Latencies 1..100 ms, all 200. */
const hundred = load(Array.from({ length: 100 }, (_, i) => rec(i, 200, i + 1)));

describe('threshold: http_req_duration (ms)', () => {
  it.each([
    ['p(99) < 100ms', true, 'http_req_duration p(99) = 99 ms (threshold < 100 ms)'],
    ['p(99) < 99ms', false, 'http_req_duration p(99) = 99 ms (threshold < 99 ms)'],
    ['p(50) <= 50', true, 'http_req_duration p(50) = 50 ms (threshold <= 50 ms)'],
    ['p(50) <= 49', false, undefined],
    ['p(100) == 100ms', true, undefined],
    ['avg > 50', true, 'http_req_duration avg = 50.5 ms (threshold > 50 ms)'],
    ['avg > 50.5', false, undefined],
    ['min >= 1', true, undefined],
    ['min >= 1.5', false, undefined],
    ['max < 0.1s', false, 'http_req_duration max = 100 ms (threshold < 100 ms)'],
    ['max != 100', false, undefined],
    ['max != 99', true, undefined],
    ['med == 50', true, undefined],
  ])('%s → %s', async (expr, holds, summary) => {
    const r = await check({ metric: 'http_req_duration', expr }, hundred);
    expect(r.holds).toBe(holds);
    if (summary) expect(r.summary).toBe(summary);
    expect(r.witnessCount).toBe(holds ? 0 : 1);
  });

  it('a violation names the metric, the aggregation, the observed value and the bound', async () => {
    const r = await check({ metric: 'http_req_duration', expr: 'p(99) < 50ms' }, hundred);
    expect(r.witnesses).toEqual([
      {
        metric: 'http_req_duration',
        aggregation: 'p(99)',
        observed: 99,
        op: '<',
        threshold: 50,
        expr: 'p(99) < 50ms',
      },
    ]);
  });

  it('percentiles are nearest-rank over every record (p(99) of 1,000 values is the 990th smallest)', async () => {
    const l = load(Array.from({ length: 1000 }, (_, i) => rec(i, 200, 1000 - i)));
    expect((await check({ metric: 'http_req_duration', expr: 'p(99) == 990' }, l)).holds).toBe(true);
    expect((await check({ metric: 'http_req_duration', expr: 'p(0.1) == 1' }, l)).holds).toBe(true);
  });

  it('is corrected for coordinated omission when the executor had a schedule; _uncorrected is not', async () => {
    // Intended at 0, sent 90 ms late (a stalled generator), answered in 10 ms: the user waited 100 ms.
    const l = load([rec(0, 200, 10, { intendedAtMs: 0, sentAtMs: 90 })]);
    expect((await check({ metric: 'http_req_duration', expr: 'max == 100' }, l)).holds).toBe(true);
    expect((await check({ metric: 'http_req_duration_uncorrected', expr: 'max == 10' }, l)).holds).toBe(true);
  });

  it('requests without a response have no duration; none at all is unknown', async () => {
    const some = load([rec(0, 200, 5), rec(1, 'error')]);
    expect((await check({ metric: 'http_req_duration', expr: 'max == 5' }, some)).holds).toBe(true);
    const none = await check({ metric: 'http_req_duration', expr: 'p(99) < 1s' }, load([rec(0, 'error')]));
    expect(none).toMatchObject({ holds: 'unknown', summary: 'http_req_duration p(99): no responses' });
  });
});

describe('threshold: error_rate / http_req_failed', () => {
  // 100 requests: 96 × 200, 1 × 302 (not failed), 2 × 503, 1 without a response → 3 % failed.
  const mixed = load([
    ...Array.from({ length: 96 }, (_, i) => rec(i, 200)),
    rec(96, 302),
    rec(97, 503),
    rec(98, 503),
    rec(99, 'error'),
  ]);

  it('counts statuses outside 200–399 and requests without a response', async () => {
    const r = await check({ expr: 'error_rate < 1%' }, mixed);
    expect(r.holds).toBe(false);
    expect(r.summary).toBe('error_rate rate = 3.00% (threshold < 1.00%)');
    expect((await check({ expr: 'error_rate <= 3%' }, mixed)).holds).toBe(true);
    expect((await check({ expr: 'http_req_failed < 0.031' }, mixed)).holds).toBe(true);
    expect((await check({ expr: 'http_req_failed > 0.03' }, mixed)).holds).toBe(false);
  });

  it('ignores requests the run aborted (they were never answered because we stopped)', async () => {
    const l = load([rec(0, 200), { ...rec(1, 'error'), error: 'aborted' }]);
    expect((await check({ expr: 'error_rate == 0' }, l)).holds).toBe(true);
  });

  it('no requests is unknown, never a pass', async () => {
    const r = await check({ expr: 'error_rate < 1%' }, load([]));
    expect(r).toMatchObject({ holds: 'unknown', summary: 'error_rate rate: no requests' });
  });
});

describe('threshold: http_reqs', () => {
  const ten = load(
    Array.from({ length: 10 }, (_, i) => rec(i, i < 8 ? 200 : 'error')),
    { durationMs: 2000 },
  );

  it('count is every request, answered or not; rate is per second of the load', async () => {
    expect((await check({ metric: 'http_reqs', expr: 'count == 10' }, ten)).holds).toBe(true);
    expect((await check({ metric: 'http_reqs', expr: 'count > 10' }, ten)).holds).toBe(false);
    const rate = await check({ metric: 'http_reqs', expr: 'rate >= 5' }, ten);
    expect(rate).toMatchObject({ holds: true, summary: 'http_reqs rate = 5 (threshold >= 5)' });
    expect((await check({ metric: 'http_reqs', expr: 'rate > 5' }, ten)).holds).toBe(false);
  });

  it('no requests is unknown: the load did not run, so it measured no throughput', async () => {
    for (const expr of ['count < 1000', 'rate < 100']) {
      const r = await check({ metric: 'http_reqs', expr }, load([]));
      expect(r.holds, expr).toBe('unknown');
      expect(r.summary).toMatch(/no requests/);
    }
  });

  it('a load without a duration has no rate', async () => {
    const r = await check({ metric: 'http_reqs', expr: 'rate > 1' }, load([rec(0, 200)], { durationMs: 0 }));
    expect(r).toMatchObject({ holds: 'unknown', summary: 'http_reqs rate: load had no duration' });
  });
});

describe('threshold: response_lines / response_bytes', () => {
  const bodies = load(
    [
      rec(0, 200, 5, { bodyLines: 300_001, bodyBytes: 9_000_000 }),
      rec(1, 200, 5, { bodyLines: 300_001, bodyBytes: 9_000_100 }),
      rec(2, 'error'),
    ],
    { kind: 'constant-arrival-rate' },
  );

  it('aggregates over the responses that arrived', async () => {
    expect((await check({ metric: 'response_lines', expr: 'min >= 300001' }, bodies)).holds).toBe(true);
    expect((await check({ metric: 'response_lines', expr: 'min > 300001' }, bodies)).holds).toBe(false);
    expect((await check({ metric: 'response_bytes', expr: 'max == 9000100' }, bodies)).holds).toBe(true);
    expect((await check({ metric: 'response_bytes', expr: 'avg == 9000050' }, bodies)).holds).toBe(true);
  });

  it('an executor that does not read bodies is unknown, naming it', async () => {
    const r = await check({ metric: 'response_lines', expr: 'min >= 1' }, load([rec(0, 200)]));
    expect(r).toMatchObject({
      holds: 'unknown',
      summary:
        'response_lines min: the burst executor does not measure response_lines (use constant-arrival-rate)',
    });
  });

  it('no responses is unknown', async () => {
    const r = await check({ metric: 'response_bytes', expr: 'max < 1' }, load([rec(0, 'error')]));
    expect(r).toMatchObject({ holds: 'unknown', summary: 'response_bytes max: no responses' });
  });
});

describe('threshold: a closed model that kept only a sample of its records', () => {
  const aggregate: AggregateLoad = {
    requests: 9_900,
    ratePerSec: 990,
    bytesPerSec: 0,
    statusCounts: { 200: 9_800, 500: 100 },
    errors: 100,
    timeouts: 0,
    latency: { count: 9_900, mean: 12, p50: 10, p90: 20, p99: 80, p999: 150, max: 400 },
    recordsKept: 10,
  };
  const sampled = load(
    Array.from({ length: 10 }, (_, i) => rec(i, 200, 1)),
    { kind: 'closed-model', aggregate, durationMs: 10_000 },
  );

  it('judges durations from its HDR summary, not the sample', async () => {
    expect((await check({ metric: 'http_req_duration', expr: 'p(99) == 80' }, sampled)).holds).toBe(true);
    expect((await check({ metric: 'http_req_duration', expr: 'p(99.9) < 100' }, sampled)).holds).toBe(false);
    expect((await check({ metric: 'http_req_duration', expr: 'avg == 12' }, sampled)).holds).toBe(true);
    expect((await check({ metric: 'http_req_duration', expr: 'max == 400' }, sampled)).holds).toBe(true);
  });

  it('an aggregation the summary does not keep is unknown', async () => {
    const r = await check({ metric: 'http_req_duration', expr: 'p(95) < 100' }, sampled);
    expect(r).toMatchObject({
      holds: 'unknown',
      summary: 'http_req_duration p(95): p(95) is not kept by the closed-model summary',
    });
  });

  it('error rate and request count come from the totals', async () => {
    // (100 × 500 + 100 errors) / (9,900 + 100) = 2 %.
    const rate = await check({ expr: 'error_rate < 1%' }, sampled);
    expect(rate).toMatchObject({ holds: false, summary: 'error_rate rate = 2.00% (threshold < 1.00%)' });
    expect((await check({ metric: 'http_reqs', expr: 'count == 10000' }, sampled)).holds).toBe(true);
  });
});
