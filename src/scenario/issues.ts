import type { Document, LineCounter } from 'yaml';
import type { z } from 'zod';
import type { ScenarioIssue } from '../errors.js';
import { closest, knownKeysAt, locate } from './locate.js';
import { scenarioSchema } from './schema.js';

/**
 * zod's issues for a scenario, in the words of the file format: each located at its line and column,
 * a misspelled key or value answered with the closest known one ("did you mean 'burst'?"), a missing
 * field said to be missing, and a hint saying what to write.
 */
type Key = string | number;

/** The raw value at `path` (before defaults and transforms). */
export function rawAt(value: unknown, path: readonly Key[]): unknown {
  let v = value;
  for (const k of path)
    v = v && typeof v === 'object' ? (v as Record<string, unknown>)[String(k)] : undefined;
  return v;
}

const show = (v: unknown) => (typeof v === 'string' ? `'${v}'` : JSON.stringify(v));
const list = (values: readonly unknown[]) => values.map((v) => String(v)).join(', ');

/** "did you mean 'x'?" for `given` among `known`, or undefined. */
function didYouMean(given: unknown, known: readonly unknown[]): string | undefined {
  if (typeof given !== 'string') return undefined;
  const guess = closest(
    given,
    known.filter((k): k is string => typeof k === 'string'),
  );
  return guess ? `did you mean '${guess}'?` : undefined;
}

/**
 * `written`: where a path of `value` is in the file, when `value` is not the document as written (a
 * misspelled block checked under the key it was meant to be, `misspelled.ts`).
 */
export function zodIssues(
  zissues: readonly z.core.$ZodIssue[],
  value: unknown,
  file: string,
  doc: Document,
  lc: LineCounter,
  written: (path: Key[]) => Key[] = (p) => p,
): ScenarioIssue[] {
  const out: ScenarioIssue[] = [];
  const pathOf = (issue: z.core.$ZodIssue) => issue.path.filter((k): k is Key => typeof k !== 'symbol');
  const push = (path: Key[], message: string, hint?: string) => {
    const p = written(path);
    out.push({ file, ...locate(doc, lc, p), field: p.join('.'), message, ...(hint ? { hint } : {}) });
  };
  // A misspelled key also shows up as the real key missing: report it once, as the misspelling.
  const suggested = new Set<string>();
  for (const issue of zissues) {
    if (issue.code !== 'unrecognized_keys') continue;
    const path = pathOf(issue);
    const known = knownKeysAt(scenarioSchema, path, value);
    for (const key of issue.keys) {
      const guess = closest(key, known);
      if (guess) suggested.add([...path, guess].join('.'));
      push(
        [...path, key],
        `unknown key '${key}'${guess ? `; did you mean '${guess}'?` : ''}`,
        known.length ? `keys here: ${known.join(', ')}` : undefined,
      );
    }
  }
  for (const issue of zissues) {
    if (issue.code === 'unrecognized_keys') continue;
    const path = pathOf(issue);
    const given = rawAt(value, path);
    const missing = path.length > 0 && given === undefined;
    if (missing && suggested.has(path.join('.'))) continue;
    const field = String(path.at(-1) ?? '');
    if (issue.code === 'invalid_union' && issue.discriminator !== undefined && 'options' in issue) {
      // `load.type: bursts`, `type: response`, a toxic's `type: latancy`.
      const options = issue.options ?? [];
      const at = path.at(-1) === issue.discriminator ? path : [...path, issue.discriminator as string];
      const got = rawAt(value, at);
      if (got === undefined) {
        push(at, `required field '${String(issue.discriminator)}' is missing`, `one of: ${list(options)}`);
      } else {
        const guess = didYouMean(got, options);
        push(
          at,
          `unknown ${String(issue.discriminator)} ${show(got)}${guess ? `; ${guess}` : ''}`,
          `one of: ${list(options)}`,
        );
      }
      continue;
    }
    if (issue.code === 'invalid_value' && !missing) {
      const guess = didYouMean(given, issue.values);
      push(
        path,
        `${show(given)} is not allowed here${guess ? `; ${guess}` : ''}`,
        `one of: ${list(issue.values)}`,
      );
      continue;
    }
    if (missing && (issue.code === 'invalid_type' || issue.code === 'invalid_union')) {
      push(path, `required field '${field}' is missing`, requiredHint(field));
      continue;
    }
    if (
      issue.code === 'invalid_type' &&
      issue.expected === 'object' &&
      given !== null &&
      typeof given !== 'object'
    ) {
      // `health: /healthz` where a block is expected: say it needs keys, not zod's "expected object".
      push(
        path,
        `${show(given)} is a single value; '${field}' is a block of fields (key: value)`,
        `write it as ${field}: { <field>: … } (docs/scenarios.md lists the fields of '${field}')`,
      );
      continue;
    }
    push(path, issue.message);
  }
  return out;
}

function requiredHint(field: string): string | undefined {
  switch (field) {
    case 'name':
      return 'give the block a name, unique in the scenario (it names the invariant in reports)';
    case 'target':
      return 'add target: { command: <how to start your service> } (docs/scenarios.md, "target")';
    case 'load':
      return 'add load: { type: burst, requests: 20, request: { method: POST, path: /… } } or another load type';
    case 'invariants':
      return 'add invariants: with at least one check (sql, responses, threshold, …)';
    default:
      return undefined;
  }
}
