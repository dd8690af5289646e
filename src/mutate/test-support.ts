import type { OperatorContext, StatementOperator } from './operator.js';
import { mutateStatement } from './rewrite.js';
import { buildSchemaModel, type SchemaModel } from './schema-model.js';
import { loadSqlParser, parseSql } from './sql-parser.js';

await loadSqlParser();

/** The one statement of `sql`, parsed (throws if it does not parse to exactly one). */
export function statementOf(sql: string) {
  const p = parseSql(sql);
  if (!p.ok || p.statements.length !== 1) throw new Error(`not one statement: ${sql}`);
  return p.statements[0]!;
}

/** Each site's clause and mutant (or refusal) for `op` on the single statement `sql`. */
export function mutantsOf(sql: string, op: StatementOperator, context: OperatorContext = {}) {
  const st = statementOf(sql);
  const n = op.sites(structuredClone(st.node), context).length;
  return Array.from({ length: n }, (_, site) => {
    const m = mutateStatement(st, op, site, context);
    return m.ok ? { clause: m.clause, sql: m.text } : { clause: m.clause, refused: m.reason };
  });
}

/** A schema model from SQL text (one file). */
export function schemaOf(sql: string): SchemaModel {
  const p = parseSql(sql);
  if (!p.ok) throw new Error(p.error);
  return buildSchemaModel([p.statements]);
}
