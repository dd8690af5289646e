import { describe, expect, test } from 'vitest';
import { type Body, nodesOf } from './ast.js';
import type { StatementOperator } from './operator.js';
import { mutateStatement } from './rewrite.js';
import { statementOf } from './test-support.js';

/** An operator for the runner's rules: one site on every SELECT, whose apply does `edit`. */
function operator(edit: (select: Body) => void): StatementOperator {
  return {
    name: 'drop-row-lock',
    summary: 'test operator',
    sites(statement) {
      return nodesOf(statement, 'SelectStmt')
        .filter((s) => !s.done)
        .map((select) => ({ clause: 'the select', apply: () => edit(select) }));
    },
  };
}

const sql = 'SELECT a FROM t WHERE id = $1 AND b = $2';

describe('mutateStatement: rules every mutant keeps', () => {
  test('a mutant that loses a bound parameter is refused, naming it', () => {
    const dropB = operator((s) => {
      s.whereClause = ((s.whereClause as { BoolExpr: Body }).BoolExpr.args as unknown[])[0];
      s.done = true;
    });
    expect(mutateStatement(statementOf(sql), dropB, 0, {})).toEqual({
      ok: false,
      clause: 'the select',
      reason: 'removing it would remove parameter $2, which the client binds',
    });
  });

  test('a tree the deparser does not write faithfully is refused (the SQL must parse back to it)', () => {
    // `done` is no field of SelectStmt: the deparser ignores it, so the text parses back without it.
    const bogus = operator((s) => {
      s.done = true;
      s.distinctClause = [{}];
    });
    const m = mutateStatement(statementOf(sql), bogus, 0, {});
    expect(m).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^the mutant's SQL does not parse back/),
    });
  });

  test('a mutant that still has the site is refused', () => {
    const noop = operator(() => undefined);
    expect(mutateStatement(statementOf(sql), noop, 0, {})).toMatchObject({
      ok: false,
      reason: 'the mutant still has the clause: SELECT a FROM t WHERE id = $1 AND b = $2',
    });
  });

  test('a site the statement lacks is "no site", not a refusal; the statement itself is never changed', () => {
    const st = statementOf(sql);
    const before = JSON.stringify(st.node);
    const limit = operator((s) => {
      s.limitCount = { A_Const: { ival: { ival: 1 } } };
      s.done = true;
    });
    expect(mutateStatement(st, limit, 1, {})).toMatchObject({ ok: false, noSite: true });
    // `done` marks the site as gone, and is then dropped by deparsing: the parse-back check refuses it.
    expect(mutateStatement(st, limit, 0, {})).toMatchObject({ ok: false });
    expect(JSON.stringify(st.node)).toBe(before);
  });
});
