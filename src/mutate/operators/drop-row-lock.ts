/**
 * `drop-row-lock`: removes a row-lock clause — `FOR UPDATE`, `FOR NO KEY UPDATE`, `FOR SHARE`,
 * `FOR KEY SHARE`, with its `OF …`, `NOWAIT` or `SKIP LOCKED` — from a `SELECT` (also one in a subquery or
 * a CTE). One site per clause. The statement returns the same columns; it just no longer locks the rows,
 * so a concurrent transaction can read and change them before this one commits.
 *
 * `SKIP LOCKED` goes with its clause: without the lock there is nothing to skip, and every worker sees
 * every row (a claim query then hands the same job to all of them — what the mutant should show).
 */
import { type Body, forEachNode } from '../ast.js';
import type { MutationSite, StatementOperator } from '../operator.js';
import { deparse } from '../sql-parser.js';

export const dropRowLock = {
  name: 'drop-row-lock',
  summary: 'remove a SELECT’s row-lock clause (FOR UPDATE / NO KEY UPDATE / SHARE / KEY SHARE)',
  sites(statement) {
    const out: MutationSite[] = [];
    forEachNode(statement, (type, body) => {
      if (type !== 'SelectStmt' || !Array.isArray(body.lockingClause)) return;
      const select = body;
      for (const clause of select.lockingClause as Body[]) {
        out.push({
          clause: deparse(clause),
          apply() {
            const rest = (select.lockingClause as Body[]).filter((c) => c !== clause);
            if (rest.length) select.lockingClause = rest;
            else delete select.lockingClause;
          },
        });
      }
    });
    return out;
  },
} as const satisfies StatementOperator;
