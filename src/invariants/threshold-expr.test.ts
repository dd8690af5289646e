import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ScenarioError } from '../errors.js';
import { parseScenario } from '../scenario/load.js';
import { METRICS, type MetricName, parseThreshold, thresholdExprPattern } from './threshold-expr.js';

describe('parseThreshold', () => {
  it('reads the k6 forms', () => {
    expect(parseThreshold('p(99) < 200ms', 'http_req_duration')).toMatchObject({
      metric: 'http_req_duration',
      aggregation: { kind: 'p', percentile: 99 },
      op: '<',
      value: 200,
    });
    expect(parseThreshold('p(99.9) <= 1.5s', 'http_req_duration').value).toBe(1500);
    expect(parseThreshold('error_rate < 1%')).toMatchObject({
      metric: 'error_rate',
      aggregation: { kind: 'rate' },
      value: 0.01,
    });
    expect(parseThreshold('rate >= 1900', 'http_reqs').aggregation).toEqual({ kind: 'rate' });
    expect(parseThreshold('min == 2000001', 'response_lines').value).toBe(2000001);
  });

  it("an expression without a metric is about http_req_duration (the README's `p(99) < 200ms`)", () => {
    expect(parseThreshold('p(99) < 200ms')).toMatchObject({ metric: 'http_req_duration', value: 200 });
  });

  it.each([
    ['p(99) < 200ms', 'http_req_latency', /unknown metric/],
    ['p(99) << 200ms', 'http_req_duration', /cannot read|expected a number/],
    ['p(0) < 1', 'http_req_duration', /percentile/],
    ['< 200ms', 'http_req_duration', /needs an aggregation/],
    ['error_rate < 200ms', undefined, /only applies to durations/],
    ['avg < 1%', 'http_req_duration', /only applies to rates/],
    ['p(99) < 200ms extra', 'http_req_duration', /unexpected/],
  ])('rejects %s (metric %s)', (expr, metric, message) => {
    expect(() => parseThreshold(expr, metric)).toThrow(message);
  });
});

describe('threshold in a scenario', () => {
  it('reports a malformed expression at its line and column when the scenario is loaded', () => {
    const text = `target: { command: "true" }
load: { type: constant-arrival-rate, rate: 10, durationMs: 100, request: { path: /x } }
invariants:
  - type: threshold
    name: fast
    metric: http_req_duration
    expr: "p(99) < 200 parsecs"
`;
    let err: unknown;
    try {
      parseScenario(text, '/tmp/s.yaml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ScenarioError);
    const issue = (err as ScenarioError).issues.find((i) => i.field === 'invariants.0.expr');
    expect(issue).toMatchObject({ line: 7, column: 5 });
  });
});

describe('thresholdExprPattern (the JSON Schema form of the grammar)', () => {
  const metrics = Object.keys(METRICS) as MetricName[];
  const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: '' as T, freq: 3 });
  const sep = fc.constantFrom('', ' ', '  ');
  const pct = fc.constantFrom('99', '99.9', ' 50 ', '0', '100', '100.5', '.5', '5.', '.', '0.0', '007');
  const agg = fc.oneof(
    pct.map((n) => `p(${n})`),
    fc.constantFrom('avg', 'min', 'max', 'med', 'rate', 'count', 'mean', 'p (9)'),
  );
  const op = fc.constantFrom('<', '<=', '>', '>=', '==', '!=', '=', '<<');
  const num = fc.constantFrom('200', '-5', '1.5', '1.', '0');
  const unit = fc.constantFrom('', 'ms', 's', '%', ' ms', 'm', 'x');
  // Mostly well-formed shapes, each part sometimes missing or wrong, sometimes an extra word.
  const expr = fc
    .tuple(
      sep,
      opt(fc.constantFrom(...metrics)),
      sep,
      opt(agg),
      sep,
      opt(op),
      sep,
      num,
      unit,
      opt(fc.constantFrom(' extra', 'avg')),
      sep,
    )
    .map((parts) => parts.join(''));

  it('accepts exactly what parseThreshold accepts, with and without a block metric', () => {
    fc.assert(
      fc.property(expr, fc.constantFrom(undefined, ...metrics), (e, metric) => {
        let parsed = true;
        try {
          parseThreshold(e, metric);
        } catch {
          parsed = false;
        }
        expect(new RegExp(thresholdExprPattern(metric)).test(e), `${e} (metric ${metric})`).toBe(parsed);
      }),
      { numRuns: 5_000, seed: 15 },
    );
  });
});
