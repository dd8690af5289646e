/**
 * The error of a database reset whose SQL PostgreSQL refused (a schema, seed or `setup` statement that
 * does not apply: a syntax error, a missing table, a constraint the seed breaks). It is the scenario's
 * problem, not whatbreaks': a `DATABASE_FAILED` error with PostgreSQL's message, so the run ends
 * `unknown` with that reason (and a schema mutant that the seed cannot be applied to is `unknown`, never
 * killed). Errors without a SQLSTATE (a connection that broke) are returned as they are.
 */
import { WhatbreaksError } from '../errors.js';

/** What node-postgres' `DatabaseError` carries (PostgreSQL's ErrorResponse fields). */
interface PgError {
  message: string;
  code: string;
  detail?: string;
  where?: string;
}

function isSqlError(err: unknown): err is PgError {
  const code = (err as { code?: unknown } | undefined)?.code;
  return err instanceof Error && typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code);
}

/** `err` as a `DATABASE_FAILED` WhatbreaksError when PostgreSQL refused a statement; else `err`. */
export function sqlNotApplied(err: unknown): unknown {
  if (!isSqlError(err)) return err;
  const detail = err.detail ? ` (${err.detail})` : '';
  return new WhatbreaksError(
    'DATABASE_FAILED',
    `the database schema, seed or setup did not apply: ${err.message}${detail} [SQLSTATE ${err.code}]`,
    'check the files in database.schema and database.seed, and database.setup, against a fresh database',
    { cause: err },
  );
}
