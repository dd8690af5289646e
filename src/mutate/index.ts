/**
 * SQL mutation operators and discovery (docs/mutants.md). The library part of issue 17: it reads and
 * rewrites SQL text and schema files; running the mutants through the database proxy is done elsewhere.
 */
export {
  type DiscoverOptions,
  type Discovery,
  discoverMutationPoints,
  type MutationPoint,
  type RefusedPoint,
  type RewriteResult,
  type Rewriter,
  rewriterFor,
  type SeenStatement,
  type UnparsedStatement,
} from './discover.js';
export type { MutationSite, OperatorContext, OperatorName, StatementOperator } from './operator.js';
export { statementOperator, statementOperators } from './operators/registry.js';
export type { ConstraintKind, ConstraintModel, SchemaModel } from './schema-model.js';
export {
  type ConstraintPoint,
  constraintNames,
  discoverConstraintPoints,
  dropConstraint,
  type RefusedConstraint,
  type SchemaDiscovery,
  type SchemaFile,
} from './schema-mutants.js';
export { loadSqlParser } from './sql-parser.js';
