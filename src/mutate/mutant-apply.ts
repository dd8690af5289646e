/**
 * A statement mutant as something a run can carry and a later run can apply again: the tag written into
 * report.json (`report.mutant`) and the proxy's SQL rewrite built from it. `whatbreaks mutate` runs each
 * statement mutant with {@link statementMutantRewrite}; `whatbreaks replay` rebuilds the same rewrite, or
 * the same schema without a constraint, from the tag ({@link applyMutant}), so a failing schedule of a
 * mutant replays against the same mutant (docs/mutants.md).
 */
import { WhatbreaksError } from '../errors.js';
import type { SqlRewrite } from '../pgwire/sql-rewrite.js';
import type { MutantTag } from '../report/types.js';
import type { Scenario } from '../scenario/types.js';
import { type MutationPoint, rewriterFor } from './discover.js';
import type { OperatorName } from './operator.js';
import { statementOperators } from './operators/registry.js';
import { schemaMutantScenario } from './schema-mutant-run.js';
import { loadSqlParser } from './sql-parser.js';

/** The report tag of a statement mutant. */
export function statementMutantTag(point: MutationPoint): MutantTag {
  return {
    id: point.id,
    label: point.label,
    operator: point.operator,
    clause: point.clause,
    fingerprint: point.fingerprint,
    site: point.site,
  };
}

/** The report tag of a schema mutant: the constraint dropped from the scenario's schema files. */
export function schemaMutantTag(m: {
  id: string;
  label: string;
  operator: string;
  clause: string;
  constraint?: { name: string };
}): MutantTag {
  const { id, label, operator, clause } = m;
  return { id, label, operator, clause, ...(m.constraint ? { constraint: m.constraint.name } : {}) };
}

/**
 * The proxy rewrite of a statement mutant: statements with the tag's fingerprint lose the clause at the
 * tag's site; every other statement passes with its bytes. `onRewritten(n)` is called with the number of
 * statements changed in each rewritten message.
 * @throws WhatbreaksError `REPORT_INVALID` when the tag is not a statement mutant of a known operator.
 */
export async function statementMutantRewrite(
  tag: MutantTag,
  onRewritten?: (statements: number) => void,
): Promise<SqlRewrite> {
  const { fingerprint, site } = tag;
  if (
    fingerprint === undefined ||
    site === undefined ||
    !statementOperators.has(tag.operator as OperatorName)
  )
    throw new WhatbreaksError(
      'REPORT_INVALID',
      `mutant ${tag.id} is not a statement mutant this version of whatbreaks knows (operator ${tag.operator})`,
    );
  await loadSqlParser();
  const rewriter = rewriterFor({ id: tag.id, operator: tag.operator as OperatorName, fingerprint, site });
  return (sql) => {
    const r = rewriter.rewrite(sql);
    if (!r.changed) return undefined;
    onRewritten?.(r.statements);
    return r.sql;
  };
}

/**
 * What a run needs to be the mutant `tag` again (`whatbreaks replay` of a mutant's run): a schema mutant's
 * scenario copy without the constraint (its files written to `<dir>/schema/`), or a statement mutant's
 * proxy rewrite. The rewrite is set for both (observe-only for a schema mutant), so the trials go through
 * the protocol proxy as the mutant's did.
 * @throws WhatbreaksError `REPORT_INVALID` for a tag this version cannot apply; `USAGE` when the schema
 *   files no longer declare the constraint.
 */
export async function applyMutant(
  tag: MutantTag,
  scenario: Scenario,
  dir: string,
): Promise<{ scenario: Scenario; sqlRewrite: SqlRewrite }> {
  if (tag.constraint !== undefined) {
    await loadSqlParser();
    return { scenario: schemaMutantScenario(scenario, tag.constraint, dir), sqlRewrite: () => undefined };
  }
  return { scenario, sqlRewrite: await statementMutantRewrite(tag) };
}
