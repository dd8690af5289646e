import { describe, expect, it } from 'vitest';
import { ScenarioError } from '../errors.js';
import { parseScenario } from '../scenario/load.js';
import { parseThreshold } from './threshold-expr.js';

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

  it.each([
    ['p(99) < 200ms', 'http_req_latency', /unknown metric/],
    ['p(99) << 200ms', 'http_req_duration', /cannot read|expected a number/],
    ['p(0) < 1', 'http_req_duration', /percentile/],
    ['< 200ms', 'http_req_duration', /needs an aggregation/],
    ['error_rate < 200ms', undefined, /only applies to durations/],
    ['avg < 1%', 'http_req_duration', /only applies to rates/],
    ['p(99) < 200ms extra', 'http_req_duration', /unexpected/],
    ['p(99) < 200ms', undefined, /no metric/],
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
