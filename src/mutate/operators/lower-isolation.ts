/**
 * `lower-isolation`: sets an isolation level above READ COMMITTED (`REPEATABLE READ`, `SERIALIZABLE`)
 * to READ COMMITTED, PostgreSQL's default, where it is chosen:
 *
 * - `BEGIN` / `START TRANSACTION ISOLATION LEVEL …` (other options such as `READ ONLY` stay);
 * - `SET TRANSACTION ISOLATION LEVEL …`, `SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL …`;
 * - `SET [SESSION | LOCAL] default_transaction_isolation | transaction_isolation = '…'` (psycopg2's
 *   `set_session(isolation_level=…)` and Django's `OPTIONS: {isolation_level: …}` send this one).
 *
 * The command and its tag stay the same (`BEGIN`, `SET`). Not found: a level set outside the traffic
 * (`ALTER DATABASE … SET`, `postgresql.conf`, `PGOPTIONS`), `set_config(…)`, `SET … TO DEFAULT`.
 */
import { type Body, constString, forEachNode } from '../ast.js';
import type { MutationSite, StatementOperator } from '../operator.js';

const STRONGER = new Set(['repeatable read', 'serializable']);
const GUCS = new Set(['default_transaction_isolation', 'transaction_isolation']);
const READ_COMMITTED = 'read committed';

/** The A_Const of a `transaction_isolation` option, if it names a level above READ COMMITTED. */
function strongLevel(option: unknown): Body | undefined {
  const def = (option as { DefElem?: Body }).DefElem;
  if (def?.defname !== 'transaction_isolation') return undefined;
  const level = constString(def.arg);
  return level && STRONGER.has(level.toLowerCase()) ? (def.arg as { A_Const: Body }).A_Const : undefined;
}

function site(constant: Body, clause: string): MutationSite {
  return {
    clause,
    apply() {
      constant.sval = { sval: READ_COMMITTED };
    },
  };
}

export const lowerIsolation = {
  name: 'lower-isolation',
  summary: 'lower an isolation level above READ COMMITTED to READ COMMITTED',
  sites(statement) {
    const out: MutationSite[] = [];
    forEachNode(statement, (type, body) => {
      let options: unknown[] = [];
      if (type === 'TransactionStmt' && Array.isArray(body.options)) options = body.options;
      else if (type === 'VariableSetStmt' && body.kind === 'VAR_SET_MULTI' && Array.isArray(body.args)) {
        options = body.args;
      } else if (type === 'VariableSetStmt' && body.kind === 'VAR_SET_VALUE' && GUCS.has(String(body.name))) {
        const args = Array.isArray(body.args) ? body.args : [];
        const level = constString(args[0]);
        if (args.length === 1 && level && STRONGER.has(level.toLowerCase())) {
          const constant = (args[0] as { A_Const: Body }).A_Const;
          out.push(site(constant, `${String(body.name)} = '${level}'`));
        }
        return;
      }
      for (const option of options) {
        const constant = strongLevel(option);
        if (constant) {
          const level = constString({ A_Const: constant })!;
          out.push(site(constant, `ISOLATION LEVEL ${level.toUpperCase()}`));
        }
      }
    });
    return out;
  },
} as const satisfies StatementOperator;
