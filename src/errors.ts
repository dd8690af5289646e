/**
 * Errors whatbreaks raises on purpose. Each carries a stable `code` (documented in README, "Exit codes")
 * and an optional `hint` telling the user what to do next. The CLI maps them to exit codes in one table
 * (`src/cli/exit-codes.ts`); anything that is not a `WhatbreaksError` is a bug in whatbreaks.
 */
export type ErrorCode =
  | 'USAGE'
  | 'SCENARIO_INVALID'
  | 'SCENARIO_NOT_FOUND'
  | 'VARIANT_UNKNOWN'
  | 'ENV_UNAVAILABLE'
  | 'DATABASE_FAILED'
  | 'TARGET_FAILED'
  | 'TARGET_UNHEALTHY'
  | 'REMOTE_NOT_ALLOWED'
  | 'INTERRUPTED'
  | 'REPORT_INVALID';

export class WhatbreaksError extends Error {
  override name = 'WhatbreaksError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly hint?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** One problem found in a scenario file, located by line and column (1-based). */
export interface ScenarioIssue {
  file: string;
  line: number;
  column: number;
  /** Dotted path of the field, e.g. `load.requests`. Empty for the document itself. */
  field: string;
  message: string;
  /** What to do about it, when the message alone does not say. */
  hint?: string;
}

/** A scenario file that cannot be run. Carries every problem found, not only the first (k6 `Validate() []error`). */
export class ScenarioError extends WhatbreaksError {
  override name = 'ScenarioError';
  constructor(readonly issues: ScenarioIssue[]) {
    super('SCENARIO_INVALID', issues.map(formatIssue).join('\n'));
  }
}

export function formatIssue(issue: ScenarioIssue): string {
  const where = `${issue.file}:${issue.line}:${issue.column}`;
  const line = issue.field ? `${where}: ${issue.field}: ${issue.message}` : `${where}: ${issue.message}`;
  return issue.hint ? `${line}\n    hint: ${issue.hint}` : line;
}
