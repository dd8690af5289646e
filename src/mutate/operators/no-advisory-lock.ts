/**
 * `no-advisory-lock`: turns a call to an advisory-lock function into a no-op that returns what the call
 * returns when it gets the lock at once:
 *
 * | call                                                          | becomes                                   |
 * |---------------------------------------------------------------|-------------------------------------------|
 * | `pg_advisory_lock`, `pg_advisory_xact_lock` (and `_shared`)   | `CASE WHEN k IS NULL THEN NULL ELSE ''::void END` |
 * | `pg_try_advisory_lock`, `pg_try_advisory_xact_lock` (and `_shared`) | `CASE WHEN k IS NULL THEN NULL ELSE true END` |
 *
 * What the client reads stays the same: the value's type (`void`, or `boolean` and `true`: "you got the
 * lock"), NULL for a NULL key as the strict function gives, and the column's name — a call that was a
 * whole select-list item without an alias gets `AS pg_advisory_xact_lock`, the name PostgreSQL gave the
 * column. The key arguments stay in the expression, cast to the function's argument types (`bigint`, or
 * `integer, integer`), so the parameters (`$1`) keep their number and inferred type. One site per call.
 *
 * The unlock functions are left alone: `pg_advisory_unlock` of a lock that was never taken returns false
 * with a WARNING, which clients pass to a notice handler and code nearly always ignores.
 */
import { type Body, forEachNode, names, typeName } from '../ast.js';
import type { MutationSite, StatementOperator } from '../operator.js';
import { deparse } from '../sql-parser.js';

/** Lock functions and what each returns. */
const LOCKS: Record<string, 'void' | 'boolean'> = {
  pg_advisory_lock: 'void',
  pg_advisory_lock_shared: 'void',
  pg_advisory_xact_lock: 'void',
  pg_advisory_xact_lock_shared: 'void',
  pg_try_advisory_lock: 'boolean',
  pg_try_advisory_lock_shared: 'boolean',
  pg_try_advisory_xact_lock: 'boolean',
  pg_try_advisory_xact_lock_shared: 'boolean',
};

/** The lock function a FuncCall calls (`pg_advisory_lock` or `pg_catalog.pg_advisory_lock`), if any. */
function lockFunction(call: Body): string | undefined {
  const n = names(call.funcname);
  const fn = n[n.length - 1];
  if (!fn || !(fn in LOCKS)) return undefined;
  if (n.length === 2 && n[0] !== 'pg_catalog') return undefined;
  if (n.length > 2 || call.agg_star || call.over) return undefined;
  const args = Array.isArray(call.args) ? call.args.length : 0;
  return args === 1 || args === 2 ? fn : undefined;
}

/** `CASE WHEN a IS NULL [OR b IS NULL] THEN NULL ELSE <result> END`, the keys cast to the argument types. */
function noOp(args: unknown[], returns: 'void' | 'boolean'): Body {
  const argType = args.length === 1 ? typeName('pg_catalog', 'int8') : typeName('pg_catalog', 'int4');
  const tests = args.map((arg) => ({
    NullTest: { arg: { TypeCast: { arg, typeName: argType } }, nulltesttype: 'IS_NULL' },
  }));
  const condition = tests.length === 1 ? tests[0] : { BoolExpr: { boolop: 'OR_EXPR', args: tests } };
  const result =
    returns === 'void'
      ? { TypeCast: { arg: { A_Const: { sval: { sval: '' } } }, typeName: typeName('void') } }
      : { A_Const: { boolval: { boolval: true } } };
  return {
    CaseExpr: {
      args: [{ CaseWhen: { expr: condition, result: { A_Const: { isnull: true } } } }],
      defresult: result,
    },
  };
}

export const noAdvisoryLock = {
  name: 'no-advisory-lock',
  summary: 'turn an advisory-lock call into a no-op that returns what a granted lock returns',
  sites(statement) {
    // Select-list items whose value is the call itself: the column name must be kept with an alias.
    const itemOf = new Map<unknown, Body>();
    forEachNode(statement, (type, body) => {
      if (type === 'ResTarget' && body.val && body.name === undefined) itemOf.set(body.val, body);
    });
    const out: MutationSite[] = [];
    forEachNode(statement, (type, body, holder) => {
      if (type !== 'FuncCall') return;
      const fn = lockFunction(body);
      if (!fn) return;
      const call = body;
      out.push({
        clause: deparse({ FuncCall: call }),
        apply() {
          const item = itemOf.get(holder);
          if (item) item.name = fn;
          delete holder.FuncCall;
          Object.assign(holder, noOp(call.args as unknown[], LOCKS[fn]!));
        },
      });
    });
    return out;
  },
} as const satisfies StatementOperator;
