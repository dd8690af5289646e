/**
 * The grammar of `threshold` expressions, after k6's thresholds (`metrics/thresholds_parser.go`):
 * a string in a small documented grammar, parsed when the scenario is loaded, never at the end of a run.
 *
 * ```
 * expr        := [metric] [aggregation] op value
 * metric      := http_req_duration | http_req_duration_uncorrected | error_rate | http_req_failed
 *              | http_reqs | response_lines | response_bytes
 * aggregation := p(N) (0 < N ≤ 100) | avg | min | max | med | rate | count
 * op          := < | <= | > | >= | == | !=
 * value       := number [ms | s | %]
 * ```
 *
 * Examples: `p(99) < 200ms`, `p(99.9) <= 1s`, `avg < 50`, `max < 2s` (metric `http_req_duration`, the
 * default when neither the expression nor the block names one);
 * `error_rate < 1%` (metric in the expression, aggregation `rate` by default); `rate >= 1900` with
 * metric `http_reqs` (req/s); `min >= 2000001` with metric `response_lines`.
 *
 * Metrics and their kinds:
 * | metric | kind | unit | aggregations (default) |
 * |---|---|---|---|
 * | `http_req_duration` | trend | ms; corrected (from intended send) when the executor has a schedule | p(N) avg min max med |
 * | `http_req_duration_uncorrected` | trend | ms, from the actual send | p(N) avg min max med |
 * | `error_rate` = `http_req_failed` | rate | fraction of requests with no response or a status outside 200–399 (k6) | rate (rate) |
 * | `http_reqs` | counter | count, or req/s over the load's duration | count rate (count) |
 * | `response_lines` | trend | LF count of each whole response body | avg min max med p(N) |
 * | `response_bytes` | trend | bytes of each whole response body | avg min max med p(N) |
 *
 * Units: `ms`/`s` only on `http_req_duration*` (a bare number there is ms); `%` only on a rate
 * (`1%` = 0.01; a bare number is the fraction). Anything else is a scenario error.
 */
export const METRICS = {
  http_req_duration: 'trend-ms',
  http_req_duration_uncorrected: 'trend-ms',
  error_rate: 'rate',
  http_req_failed: 'rate',
  http_reqs: 'counter',
  response_lines: 'trend',
  response_bytes: 'trend',
} as const;
export type MetricName = keyof typeof METRICS;

/** The metric of an expression that names none and of a block without `metric`. */
export const DEFAULT_METRIC: MetricName = 'http_req_duration';

export type Aggregation =
  | { kind: 'p'; percentile: number }
  | { kind: 'avg' | 'min' | 'max' | 'med' | 'rate' | 'count' };
export type Op = '<' | '<=' | '>' | '>=' | '==' | '!=';

export interface Threshold {
  metric: MetricName;
  aggregation: Aggregation;
  op: Op;
  /** In the metric's base unit: ms for durations, a fraction for rates. */
  value: number;
  /** The expression as written. */
  source: string;
}

const TOKEN = /^\s*(?:(p\(\s*([\d.]+)\s*\))|([a-z_]+)|(<=|>=|==|!=|<|>)|(-?\d+(?:\.\d+)?)(ms|s|%)?)/;

/** Parse an expression; `metric` is the block's `metric` field if given. Throws `Error` with a readable message. */
export function parseThreshold(expr: string, metric?: string): Threshold {
  const tokens: { kind: 'p' | 'word' | 'op' | 'num'; text: string; n?: number; unit?: string }[] = [];
  let rest = expr;
  while (rest.trim().length > 0) {
    const m = TOKEN.exec(rest);
    if (!m) throw new Error(`cannot read '${rest.trim()}' in '${expr}'`);
    if (m[1]) tokens.push({ kind: 'p', text: m[1], n: Number(m[2]) });
    else if (m[3]) tokens.push({ kind: 'word', text: m[3] });
    else if (m[4]) tokens.push({ kind: 'op', text: m[4] });
    else tokens.push({ kind: 'num', text: m[0].trim(), n: Number(m[5]), unit: m[6] });
    rest = rest.slice(m[0].length);
  }
  let i = 0;
  let name = metric;
  const first = tokens[0];
  if (first?.kind === 'word' && first.text in METRICS) {
    if (metric !== undefined && metric !== first.text) {
      throw new Error(`expression names metric '${first.text}' but metric is '${metric}'`);
    }
    name = first.text;
    i++;
  }
  // `p(99) < 200ms` alone is about response times, as in the README: the default metric.
  name ??= DEFAULT_METRIC;
  if (!(name in METRICS))
    throw new Error(`unknown metric '${name}'; known: ${Object.keys(METRICS).join(', ')}`);
  const kind = METRICS[name as MetricName];
  let aggregation: Aggregation | undefined;
  const t = tokens[i];
  if (t?.kind === 'p') {
    if (!(t.n! > 0 && t.n! <= 100)) throw new Error(`percentile must be in (0, 100], got ${t.text}`);
    aggregation = { kind: 'p', percentile: t.n! };
    i++;
  } else if (t?.kind === 'word') {
    if (!['avg', 'min', 'max', 'med', 'rate', 'count'].includes(t.text)) {
      throw new Error(`unknown aggregation '${t.text}'; use p(N), avg, min, max, med, rate or count`);
    }
    aggregation = { kind: t.text as 'avg' };
    i++;
  }
  if (!aggregation) {
    if (kind === 'rate') aggregation = { kind: 'rate' };
    else if (kind === 'counter') aggregation = { kind: 'count' };
    else throw new Error(`'${name}' needs an aggregation: p(N), avg, min, max or med`);
  }
  const allowed =
    kind === 'rate' ? ['rate'] : kind === 'counter' ? ['count', 'rate'] : ['p', 'avg', 'min', 'max', 'med'];
  if (!allowed.includes(aggregation.kind)) {
    throw new Error(
      `'${name}' (${kind.replace('-ms', '')}) takes ${allowed.map((a) => (a === 'p' ? 'p(N)' : a)).join(', ')}, not ${aggregation.kind}`,
    );
  }
  const op = tokens[i];
  if (op?.kind !== 'op') throw new Error(`expected a comparison (<, <=, >, >=, ==, !=) in '${expr}'`);
  i++;
  const num = tokens[i];
  if (num?.kind !== 'num') throw new Error(`expected a number after '${op.text}' in '${expr}'`);
  i++;
  if (i < tokens.length) throw new Error(`unexpected '${tokens[i]!.text}' at the end of '${expr}'`);
  let value = num.n!;
  if (num.unit === 'ms' || num.unit === 's') {
    if (kind !== 'trend-ms') throw new Error(`'${num.unit}' only applies to durations, not to ${name}`);
    if (num.unit === 's') value *= 1000;
  } else if (num.unit === '%') {
    if (aggregation.kind !== 'rate' || kind !== 'rate')
      throw new Error(`'%' only applies to rates, not to ${name}`);
    value /= 100;
  }
  return { metric: name as MetricName, aggregation, op: op.text as Op, value, source: expr };
}

export function compare(observed: number, op: Op, value: number): boolean {
  switch (op) {
    case '<':
      return observed < value;
    case '<=':
      return observed <= value;
    case '>':
      return observed > value;
    case '>=':
      return observed >= value;
    case '==':
      return observed === value;
    case '!=':
      return observed !== value;
  }
}

export function describeAggregation(a: Aggregation): string {
  return a.kind === 'p' ? `p(${a.percentile})` : a.kind;
}

/**
 * A regular expression (source, ECMA-262) that matches exactly the expressions `parseThreshold` accepts
 * with block metric `metric`, for the scenario format's JSON Schema (an editor flags a bad expression as
 * the loader does). `threshold-expr.test.ts` checks the two agree on generated expressions.
 */
export function thresholdExprPattern(metric: MetricName | undefined): string {
  const pct = String.raw`(?=[\d.]*[1-9])0*(?:100(?:\.0*)?|\d{1,2}(?:\.\d*)?|\.\d+)`;
  const op = '(?:<=|>=|==|!=|<|>)';
  const body = (m: MetricName, afterName: boolean) => {
    const kind = METRICS[m];
    const trend = kind === 'trend' || kind === 'trend-ms';
    const agg = trend
      ? String.raw`(?:p\(\s*${pct}\s*\)|avg|min|max|med)`
      : kind === 'rate'
        ? 'rate'
        : '(?:count|rate)';
    const unit = kind === 'trend-ms' ? '(?:ms|s)?' : kind === 'rate' ? '%?' : '';
    // After a metric name a word needs a space (`http_reqs count`); an operator does not.
    const lead = afterName ? String.raw`\s+` : String.raw`\s*`;
    const aggregation = trend ? `${lead}${agg}` : `(?:${lead}${agg})?`;
    return String.raw`${aggregation}\s*${op}\s*-?\d+(?:\.\d+)?${unit}`;
  };
  const named = (m: MetricName) => `${m}${body(m, true)}`;
  const alternatives =
    metric === undefined
      ? [...(Object.keys(METRICS) as MetricName[]).map(named), body(DEFAULT_METRIC, false)]
      : [named(metric), body(metric, false)];
  return String.raw`^\s*(?:${alternatives.join('|')})\s*$`;
}
