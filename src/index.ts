/**
 * The whatbreaks library: what the CLI calls, for use from tests and scripts.
 *
 *   import { loadScenario, runScenario, verify } from 'whatbreaks';
 *   const scenario = loadScenario('scenarios/double-booking.yaml');
 *   const { report } = await verify(scenario, { baseline: 'buggy', candidate: 'fixed', trials: 5 });
 *   expect(report.verdict).toBe('fix validated');
 *
 * Explicit named exports only (no `export *`): this list is the public API.
 */

export { EXIT, exitForVerdict, exitForVerify } from './cli/exit-codes.js';
export type { ErrorCode, ScenarioIssue } from './errors.js';
export { ScenarioError, WhatbreaksError } from './errors.js';
export type { Holds, InvariantResult } from './invariants/types.js';
export type { LatencySummary } from './load/latency.js';
export type { RequestRecord } from './load/types.js';
export {
  type FormatsWritten,
  type ReportFormatName,
  reportFormats,
  writeReportFormats,
} from './report/formats.js';
export { renderHtml } from './report/html.js';
export { renderJunit } from './report/junit.js';
export { renderMarkdown } from './report/markdown.js';
export { renderVerifyMarkdown } from './report/markdown-verify.js';
export { reportJsonSchema, runReportSchema, validateReport } from './report/schema.js';
export { renderSummary, renderTrial } from './report/terminal.js';
export type { RunReport, TrialReport, Verdict } from './report/types.js';
export { type RunEvent, type RunOptions, type RunOutcome, runScenario } from './run.js';
export { defineScenario, loadScenario, parseScenario } from './scenario/load.js';
export type { ScenarioConfig, ScenarioInput } from './scenario/schema.js';
export type { Scenario } from './scenario/types.js';
export { type FailureBound, zeroFailureBound } from './stats/failure-bound.js';
export { type ProportionInterval, wilsonInterval } from './stats/wilson.js';
export {
  isPathSpec,
  judge,
  rebaseScenario,
  type VerifyEvent,
  type VerifyOptions,
  type VerifyOutcome,
  type VerifyReport,
  type VerifyRole,
  type VerifySide,
  type VerifyVerdict,
  verify,
} from './verify.js';
