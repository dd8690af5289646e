import { WhatbreaksError } from '../../errors.js';
import type { OperatorName, StatementOperator } from '../operator.js';
import { dropOnConflict } from './drop-on-conflict.js';
import { dropRowLock } from './drop-row-lock.js';
import { dropUpdatePredicate } from './drop-update-predicate.js';
import { lowerIsolation } from './lower-isolation.js';
import { noAdvisoryLock } from './no-advisory-lock.js';

/**
 * Built-in statement operators, keyed by name. Adding one is one file in this folder and one line in
 * `builtins` (and its name in `OperatorName`). The schema operator, `drop-constraint`, works on schema
 * files instead of statements: `../schema-mutants.ts`.
 */
const builtins = [
  dropRowLock,
  lowerIsolation,
  noAdvisoryLock,
  dropOnConflict,
  dropUpdatePredicate,
] as const satisfies readonly StatementOperator[];

/** Build a registry; a name registered twice is an error. */
export function buildOperatorRegistry(
  operators: readonly StatementOperator[],
): ReadonlyMap<OperatorName, StatementOperator> {
  const out = new Map<OperatorName, StatementOperator>();
  for (const op of operators) {
    if (out.has(op.name))
      throw new WhatbreaksError('USAGE', `mutation operator "${op.name}" is registered twice`);
    out.set(op.name, op);
  }
  return out;
}

export const statementOperators = buildOperatorRegistry(builtins);

/** The operator named `name`; a USAGE error listing the names when there is none. */
export function statementOperator(name: string): StatementOperator {
  const op = statementOperators.get(name as OperatorName);
  if (op) return op;
  throw new WhatbreaksError(
    'USAGE',
    `unknown mutation operator "${name}"`,
    `operators: ${[...statementOperators.keys()].join(', ')}, drop-constraint (schema)`,
  );
}
