/**
 * The runner of statement operators: applies one operator's site to one statement and enforces what
 * every mutant must keep, whatever the operator (the Toxiproxy way: cross-cutting rules in the runner).
 *
 * 1. The mutant uses the same parameters (`$1`…) as the statement: the client binds them by number, and a
 *    statement that lost one fails at Bind ("bind message supplies 2 parameters, but prepared statement
 *    requires 1") — that would be an error injected by whatbreaks, not a missing protection.
 * 2. The mutant's SQL parses back to the mutated tree (the deparser wrote what the tree says).
 * 3. The site is gone: the operator finds one site fewer in the mutant.
 *
 * A site that breaks a rule is refused with the reason; the statement is then sent unchanged.
 */
import { paramNumbers } from './ast.js';
import type { OperatorContext, StatementOperator } from './operator.js';
import { deparse, type ParsedStatement, parseSql, sameTree } from './sql-parser.js';

export type StatementMutation =
  | { ok: true; text: string; clause: string }
  /** `noSite`: the statement lacks the site (nothing to mutate), rather than a rule refusing it. */
  | { ok: false; reason: string; clause?: string; noSite?: boolean };

/** Apply site `site` (0-based) of `operator` to `statement`. The statement itself is not changed. */
export function mutateStatement(
  statement: ParsedStatement,
  operator: StatementOperator,
  site: number,
  context: OperatorContext,
): StatementMutation {
  const tree = structuredClone(statement.node) as unknown;
  const sites = operator.sites(tree, context);
  const target = sites[site];
  if (!target) {
    return {
      ok: false,
      noSite: true,
      reason: `${operator.name} finds ${sites.length} site(s) here, not site ${site + 1}`,
    };
  }
  const clause = target.clause;
  const before = paramNumbers(tree);
  target.apply();
  const after = paramNumbers(tree);
  const lost = before.filter((n) => !after.includes(n));
  if (lost.length) {
    return {
      ok: false,
      clause,
      reason: `removing it would remove parameter ${lost.map((n) => `$${n}`).join(', ')}, which the client binds`,
    };
  }
  let text: string;
  try {
    text = deparse(tree);
  } catch (err) {
    return { ok: false, clause, reason: `the deparser cannot write the mutant: ${(err as Error).message}` };
  }
  const back = parseSql(text);
  if (!back.ok || back.statements.length !== 1 || !sameTree(back.statements[0]!.node, tree)) {
    return {
      ok: false,
      clause,
      reason: back.ok
        ? `the mutant's SQL does not parse back to the mutated statement: ${text}`
        : `the mutant's SQL does not parse (${back.error}): ${text}`,
    };
  }
  if (operator.sites(structuredClone(back.statements[0]!.node), context).length !== sites.length - 1) {
    return { ok: false, clause, reason: `the mutant still has the clause: ${text}` };
  }
  return { ok: true, text, clause };
}
