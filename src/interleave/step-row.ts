/**
 * One row of a schedule's step table: a step of one request as the report shows it — the SQL it ran
 * (normalized, literals kept), its parameters apart, and what PostgreSQL answered (rows, tag or error).
 */
import type { ParamValue } from '../pgwire/frontend-messages.js';
import type { Step } from '../pgwire/step.js';

export interface StepRow {
  /** 1-based order in which the scheduler released the steps. */
  order: number;
  /** 0-based request index. */
  request: number;
  /** The proxy's connection id (which pool connection carried it: informative only). */
  connection: number;
  /** Statements the step executed (normalized SQL, literals kept). */
  sql: string[];
  /** Bind parameters per statement (text values; binary as `\x…`; NULL as null); absent for simple Query. */
  params?: (string | null)[][];
  /** `SELECT 1`, `UPDATE 0`, `ERROR 23505 duplicate key value …`, one per statement, joined by `; `. */
  result: string;
  /** SQLSTATE of the first error, if any (`40P01` deadlock, `40001` serialization failure, …). */
  sqlstate?: string;
  /** The step was seen waiting for a lock another request held (`pg_blocking_pids`). */
  blocked?: boolean;
  /** Transaction status after it: `I` idle, `T` in a transaction, `E` failed transaction. */
  txAfter?: string;
}

function paramText(p: ParamValue): string | null {
  if (p === null) return null;
  return p.format === 'text' ? p.value : `\\x${p.hex}`;
}

/** The row for `step` (read when the trial is over: the step record is complete then). */
export function stepRow(step: Step, order: number, request: number, blocked: boolean): StepRow {
  const run = step.statements.filter((s) => s.via !== 'parse');
  const statements = run.length > 0 ? run : step.statements;
  const withParams = statements.some((s) => s.params !== undefined);
  const result =
    step.results
      .map((r) => {
        switch (r.kind) {
          case 'command':
            return r.command === 'SELECT' || r.dataRows > 0 ? `${r.tag} (${r.dataRows} rows)` : r.tag;
          case 'suspended':
            return `suspended after ${r.dataRows} rows`;
          case 'empty':
            return 'empty query';
          case 'error':
            return `ERROR ${r.error.sqlstate} ${r.error.message}`;
        }
        return '';
      })
      .join('; ') || (step.state === 'done' ? 'no result' : `not answered (${step.state})`);
  return {
    order,
    request,
    connection: step.connectionId,
    sql: statements.map((s) => s.text),
    ...(withParams ? { params: statements.map((s) => (s.params ?? []).map(paramText)) } : {}),
    result,
    ...(step.error ? { sqlstate: step.error.sqlstate } : {}),
    ...(blocked ? { blocked } : {}),
    ...(step.txAfter ? { txAfter: step.txAfter } : {}),
  };
}
