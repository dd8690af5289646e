/**
 * `drop-on-conflict`: removes an `INSERT`'s `ON CONFLICT …` clause (`DO NOTHING` or `DO UPDATE`), so the
 * insert of a duplicate key fails with unique_violation (23505) instead of being skipped or merged. The
 * `RETURNING` list stays. One site per `INSERT` (also one in a CTE).
 *
 * A clause that holds parameters used nowhere else in the statement (`DO UPDATE SET n = $3`) cannot be
 * removed without changing what the client must bind: the runner refuses that site and says why.
 */
import { forEachNode } from '../ast.js';
import type { MutationSite, StatementOperator } from '../operator.js';
import { deparse } from '../sql-parser.js';

/** The text `with` has and `without` lacks (the removed clause), from the two statements' SQL. */
function removedText(withClause: string, without: string): string {
  let start = 0;
  while (start < without.length && withClause[start] === without[start]) start++;
  let end = 0;
  while (
    end < without.length - start &&
    withClause[withClause.length - 1 - end] === without[without.length - 1 - end]
  ) {
    end++;
  }
  return withClause.slice(start, withClause.length - end).trim();
}

export const dropOnConflict = {
  name: 'drop-on-conflict',
  summary: 'remove an INSERT’s ON CONFLICT clause',
  sites(statement) {
    const out: MutationSite[] = [];
    forEachNode(statement, (type, body) => {
      if (type !== 'InsertStmt' || !body.onConflictClause) return;
      const insert = body;
      const { onConflictClause, ...rest } = insert;
      out.push({
        clause: removedText(deparse({ InsertStmt: insert }), deparse({ InsertStmt: rest })),
        apply() {
          delete insert.onConflictClause;
        },
      });
    });
    return out;
  },
} as const satisfies StatementOperator;
