import type { Holds, InvariantResult } from '../invariants/types.js';
import type { LatencySummary } from '../load/latency.js';
import type { RequestRecord } from '../load/types.js';
import type { FaultRecord } from '../timeline/timeline.js';

/**
 * `report.json`: everything a run measured, as plain data. Every report format (terminal, Markdown,
 * HTML, JUnit) renders from this. Versioned: `schemaVersion` changes when a field changes meaning or
 * disappears; fields may be added within a version.
 */
export const REPORT_SCHEMA_VERSION = 1;

export type Verdict = 'pass' | 'fail' | 'unknown';

export function verdictOf(h: Holds): Verdict {
  return h === true ? 'pass' : h === false ? 'fail' : 'unknown';
}

export interface RunReport {
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
  tool: { name: 'whatbreaks'; version: string; node: string };
  scenario: { name: string; file: string; description?: string };
  variant: string;
  environment: { kind: 'local' | 'docker'; reason: string };
  /** ISO 8601. */
  startedAt: string;
  durationMs: number;
  verdict: Verdict;
  /** True when the run was interrupted (Ctrl-C, SIGTERM) and holds only the trials that finished. */
  aborted: boolean;
  /** Set when the run could not start or broke off (environment error, target failure). */
  error?: { code: string; message: string; hint?: string };
  summary: {
    trials: number;
    passed: number;
    failed: number;
    unknown: number;
    /** Trials in which an invariant was violated / trials run. */
    reproductionRate: number;
  };
  trials: TrialReport[];
}

export interface TrialReport {
  /** 1-based. */
  trial: number;
  verdict: Verdict;
  startedAt: string;
  durationMs: number;
  /** Why the trial is `unknown` when no invariant said so (e.g. the burst was too loose). */
  inconclusive?: string;
  error?: string;
  load: {
    kind: string;
    sync?: string;
    requests: number;
    sendSpreadMs?: number;
    arrivalSpreadMs?: number;
    statusCounts: Record<string, number>;
    latency: LatencySummary;
    warnings: string[];
    records: RequestRecord[];
  };
  invariants: InvariantResult[];
  /**
   * The fault timeline of the trial: one entry per fault in the scenario's `faults:` (applied, failed or
   * skipped), with its window in ms since trial start (`startMs`, `endMs`; no `endMs` = lasted to the
   * end of the trial). Written by every run since faults exist; absent in older reports.
   */
  faults?: FaultRecord[];
}
