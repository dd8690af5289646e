import { z } from 'zod';
import type { LoadResult, RequestRecord } from '../load/types.js';
import {
  compare,
  describeAggregation,
  METRICS,
  type MetricName,
  parseThreshold,
  type Threshold,
  thresholdExprPattern,
} from './threshold-expr.js';
import type { Invariant, InvariantResult } from './types.js';

/**
 * `threshold`: a k6-style threshold on what the load measured, in the grammar of `threshold-expr.ts`.
 *
 * ```yaml
 * - type: threshold
 *   name: p99-under-200ms
 *   metric: http_req_duration
 *   expr: "p(99) < 200ms"
 * - type: threshold
 *   name: few-errors
 *   expr: "error_rate < 1%"
 * ```
 *
 * The expression is parsed when the scenario is loaded (an unknown metric or a malformed expression is
 * a scenario error at its line and column) and evaluated once the trial's load is over. A threshold
 * over no data (no request at all, no request got a response, or an executor that does not measure
 * `response_lines`) is `unknown`, never a pass. Witness: the metric, the aggregation, the value observed and the bound.
 *
 * Percentiles are nearest-rank over every record (`p(99)` of 1,000 values is the 990th smallest). When
 * the executor kept only a sample of its records (`closed-model`), durations come from its HDR summary,
 * which has p(50), p(90), p(99), p(99.9), avg and max; other aggregations are then `unknown`.
 */
export const config = z
  .strictObject({
    type: z.literal('threshold'),
    name: z.string().min(1),
    description: z.string().optional(),
    metric: z
      .enum(Object.keys(METRICS) as [MetricName, ...MetricName[]])
      .optional()
      .meta({
        description:
          'Metric the expression is about; may instead open the expression (`error_rate < 1%`); default `http_req_duration`.',
      }),
    expr: z
      .string()
      .min(1)
      .meta({
        description:
          'The rule: `[metric] aggregation op value`, e.g. `p(99) < 200ms`, `error_rate < 1%`, `rate >= 1900` (metric `http_reqs`). Aggregations: `p(N)`, `avg`, `min`, `max`, `med` (durations, ms or `s`), `rate`, `count`. Operators: `<`, `<=`, `>`, `>=`, `==`, `!=`.',
        examples: ['p(99) < 200ms', 'error_rate < 1%'],
      }),
  })
  .superRefine(
    (c, ctx) => {
      // Runs even when another field (a missing name) failed: every problem is reported at once.
      if (typeof c?.expr !== 'string' || (c.metric !== undefined && !(c.metric in METRICS))) return;
      try {
        parseThreshold(c.expr, c.metric);
      } catch (err) {
        ctx.addIssue({ code: 'custom', path: ['expr'], message: (err as Error).message });
      }
    },
    { when: () => true },
  )
  .meta({
    jsonSchema: {
      anyOf: [
        {
          not: { required: ['metric'] },
          properties: { expr: { type: 'string', pattern: thresholdExprPattern(undefined) } },
        },
        ...(Object.keys(METRICS) as MetricName[]).map((m) => ({
          required: ['metric'],
          properties: { metric: { const: m }, expr: { type: 'string', pattern: thresholdExprPattern(m) } },
        })),
      ],
    },
    description:
      '`threshold`: a k6-style threshold on what the load measured, in the grammar of `threshold-expr.ts`.',
    yaml: '- type: threshold\n  name: p99-under-200ms\n  metric: http_req_duration\n  expr: "p(99) < 200ms"\n- type: threshold\n  name: few-errors\n  expr: "error_rate < 1%"',
  });
export type ThresholdInvariantConfig = z.output<typeof config>;

const failed = (r: RequestRecord) => r.status === undefined || r.status < 200 || r.status > 399;

function nearestRank(sorted: readonly number[], p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

function aggregateValues(values: number[], t: Threshold): number {
  values.sort((a, b) => a - b);
  const a = t.aggregation;
  switch (a.kind) {
    case 'p':
      return nearestRank(values, a.percentile);
    case 'med':
      return nearestRank(values, 50);
    case 'min':
      return values[0]!;
    case 'max':
      return values[values.length - 1]!;
    default:
      return values.reduce((s, v) => s + v, 0) / values.length;
  }
}

/** The observed value of `t` over `load`, or a reason why there is none. */
export function observe(t: Threshold, load: LoadResult): number | { unknown: string } {
  const records = load.records.filter((r) => r.error !== 'aborted');
  const agg = load.aggregate;
  const sampled = agg !== undefined && agg.recordsKept < agg.requests;
  switch (METRICS[t.metric]) {
    case 'rate': {
      if (agg && sampled) {
        const total = agg.requests + agg.errors;
        if (total === 0) return { unknown: 'no requests' };
        const bad = Object.entries(agg.statusCounts)
          .filter(([s]) => !s.startsWith('error') && (Number(s) < 200 || Number(s) > 399))
          .reduce((n, [, c]) => n + c, 0);
        return (bad + agg.errors) / total;
      }
      if (records.length === 0) return { unknown: 'no requests' };
      return records.filter(failed).length / records.length;
    }
    case 'counter': {
      const n = agg && sampled ? agg.requests + agg.errors : records.length;
      // No request at all: the load did not run, so it measured no throughput (`count < 1000` must not pass).
      if (n === 0) return { unknown: 'no requests' };
      if (t.aggregation.kind === 'count') return n;
      return load.durationMs > 0 ? (n / load.durationMs) * 1000 : { unknown: 'load had no duration' };
    }
    case 'trend': {
      const key = t.metric === 'response_lines' ? 'bodyLines' : 'bodyBytes';
      const values = records.filter((r) => r.status !== undefined).map((r) => r[key]);
      if (values.length === 0) return { unknown: 'no responses' };
      if (values.some((v) => v === undefined)) {
        return {
          unknown: `the ${load.kind} executor does not measure ${t.metric} (use constant-arrival-rate)`,
        };
      }
      return aggregateValues(values as number[], t);
    }
    case 'trend-ms': {
      if (agg && sampled) {
        const s = agg.latency;
        const a = t.aggregation;
        const fromSummary =
          a.kind === 'p'
            ? ({ 50: s.p50, 90: s.p90, 99: s.p99, 99.9: s.p999, 100: s.max } as Record<number, number>)[
                a.percentile
              ]
            : a.kind === 'avg'
              ? s.mean
              : a.kind === 'max'
                ? s.max
                : a.kind === 'med'
                  ? s.p50
                  : undefined;
        if (s.count === 0) return { unknown: 'no responses' };
        return (
          fromSummary ?? { unknown: `${describeAggregation(a)} is not kept by the ${load.kind} summary` }
        );
      }
      const corrected = t.metric === 'http_req_duration';
      const values = records
        .filter((r) => r.latencyMs !== undefined)
        .map((r) =>
          corrected && r.intendedAtMs !== undefined
            ? r.sentAtMs + r.latencyMs! - r.intendedAtMs
            : r.latencyMs!,
        );
      if (values.length === 0) return { unknown: 'no responses' };
      return aggregateValues(values, t);
    }
  }
}

function format(t: Threshold, v: number): string {
  const kind = METRICS[t.metric];
  if (kind === 'rate') return `${(v * 100).toPrecision(3)}%`;
  if (kind === 'trend-ms') return `${Math.round(v * 1000) / 1000} ms`;
  return String(Math.round(v * 1000) / 1000);
}

export function create(cfg: ThresholdInvariantConfig): Invariant {
  const t = parseThreshold(cfg.expr, cfg.metric);
  const label = `${t.metric} ${describeAggregation(t.aggregation)}`;
  return {
    name: cfg.name,
    type: 'threshold',
    async check({ load }): Promise<InvariantResult> {
      const observed = observe(t, load);
      const base = { name: cfg.name, type: 'threshold' };
      if (typeof observed !== 'number') {
        return {
          ...base,
          holds: 'unknown',
          summary: `${label}: ${observed.unknown}`,
          witnesses: [],
          witnessCount: 0,
        };
      }
      const holds = compare(observed, t.op, t.value);
      const summary = `${label} = ${format(t, observed)} (threshold ${t.op} ${format(t, t.value)})`;
      const witnesses = holds
        ? []
        : [
            {
              metric: t.metric,
              aggregation: describeAggregation(t.aggregation),
              observed,
              op: t.op,
              threshold: t.value,
              expr: t.source,
            },
          ];
      return { ...base, holds, summary, witnesses, witnessCount: witnesses.length };
    },
  };
}
