/**
 * A mutation operator removes one concurrency protection from one SQL statement, so that a scenario can
 * be asked whether it notices (issue 17: "does the scenario know the fix matters?").
 *
 * ```
 *   statement the candidate sends ──► parse ──► operator.sites(tree) ──► site.apply() ──► deparse
 *     SELECT … FOR UPDATE               (libpg-query)   [FOR UPDATE]        (drops it)    SELECT …
 * ```
 *
 * An operator only finds sites and edits the tree. The rules every mutant must keep are applied once, by
 * the runner (`rewrite.ts`), not in each operator: the mutated tree must deparse to SQL that parses back
 * to the same tree, and must use the same parameters (`$1`…), or the site is refused with a reason. The
 * runner hands each call a fresh copy of the tree, so `apply` may change it in place.
 *
 * Like the toxics (`src/faults/toxics/`): one operator per file in `operators/`, a registry keyed by name.
 */
import type { SchemaModel } from './schema-model.js';

export type OperatorName =
  | 'drop-row-lock'
  | 'lower-isolation'
  | 'no-advisory-lock'
  | 'drop-on-conflict'
  | 'drop-update-predicate';

/** What an operator may know besides the statement. */
export interface OperatorContext {
  /** Tables, columns and keys from the scenario's schema files, when known. */
  readonly schema?: SchemaModel;
}

/** One place in a statement where the operator can remove a protection. */
export interface MutationSite {
  /** The protection as SQL (`FOR UPDATE SKIP LOCKED`, `ISOLATION LEVEL SERIALIZABLE`, `status = 'in_progress'`). */
  readonly clause: string;
  /** Remove the protection from the tree `sites` was given (in place). */
  apply(): void;
}

export interface StatementOperator {
  readonly name: OperatorName;
  /** One line: what the mutant does. */
  readonly summary: string;
  /**
   * The sites in one statement's tree, in a stable order (the tree's walk order: statements of the same
   * shape give the same list, so a site is named by its index). Empty when the statement has none.
   */
  sites(statement: unknown, context: OperatorContext): MutationSite[];
}
