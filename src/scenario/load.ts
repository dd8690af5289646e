import { readFileSync } from 'node:fs';
import { basename, dirname, extname, resolve } from 'node:path';
import { LineCounter, parseDocument, visit } from 'yaml';
import { ScenarioError, type ScenarioIssue, WhatbreaksError } from '../errors.js';
import { scenarioProblems } from './checks.js';
import { zodIssues } from './issues.js';
import { locate } from './locate.js';
import { renameMisspelled, writtenPath } from './misspelled.js';
import { type ScenarioConfig, type ScenarioInput, scenarioSchema } from './schema.js';
import type { Scenario } from './types.js';

/**
 * Identity helper for scenarios written in TypeScript: gives editors the file format's types.
 * `defineScenario({ target: {...}, load: {...}, invariants: [...] })`.
 */
export function defineScenario(input: ScenarioInput): ScenarioInput {
  return input;
}

/**
 * Read, parse and validate a scenario file into an immutable `Scenario` with absolute paths.
 *
 * @throws WhatbreaksError `SCENARIO_NOT_FOUND` when the file cannot be read.
 * @throws ScenarioError `SCENARIO_INVALID` carrying every problem found (YAML syntax, unknown or
 *   misspelled keys, wrong types, missing referenced files), each with file, line and column.
 */
export function loadScenario(file: string): Scenario {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new WhatbreaksError(
      'SCENARIO_NOT_FOUND',
      `cannot read scenario ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      'give the path of a scenario file, e.g. scenarios/double-booking.yaml (`whatbreaks list` shows them)',
    );
  }
  return parseScenario(text, path);
}

/** Validate scenario text as if read from `file` (used by `loadScenario` and by tests). */
export function parseScenario(text: string, file: string): Scenario {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const issues: ScenarioIssue[] = [];
  for (const e of [...doc.errors, ...doc.warnings]) {
    const pos = lc.linePos(e.pos[0]);
    issues.push({
      file,
      line: pos.line,
      column: pos.col,
      field: '',
      message: `YAML: ${e.message.split('\n')[0]}`,
    });
  }
  if (issues.length > 0) throw new ScenarioError(issues);
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    // Unresolved aliases (`*a` before `&a`) and alias bombs surface only when converting.
    let at = { line: 1, col: 1 };
    visit(doc, {
      Alias(_key, node) {
        if (!node.resolve(doc)) {
          at = lc.linePos(node.range?.[0] ?? 0);
          return visit.BREAK;
        }
      },
    });
    throw new ScenarioError([
      { file, line: at.line, column: at.col, field: '', message: `YAML: ${(err as Error).message}` },
    ]);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ScenarioError([
      { file, line: 1, column: 1, field: '', message: 'a scenario is a YAML mapping (key: value)' },
    ]);
  }

  // Schema and cross-field checks in one pass: every problem is reported at once.
  const parsed = scenarioSchema.safeParse(value);
  const problem = (p: { path: (string | number)[]; message: string; hint?: string }) =>
    issues.push({
      file,
      ...locate(doc, lc, p.path),
      field: p.path.join('.'),
      message: p.message,
      ...(p.hint ? { hint: p.hint } : {}),
    });
  if (!parsed.success) {
    issues.push(...zodIssues(parsed.error.issues, value, file, doc, lc));
    // What is inside a misspelled block, checked as the key it was meant to be, in the same pass.
    const guessed = renameMisspelled(parsed.error.issues, value);
    if (guessed) {
      const inside = (path: readonly PropertyKey[]) =>
        writtenPath(
          path.filter((k): k is string | number => typeof k !== 'symbol'),
          guessed.renames,
        );
      const again = scenarioSchema.safeParse(guessed.value);
      const under = again.success ? [] : again.error.issues.filter((i) => inside(i.path));
      issues.push(...zodIssues(under, guessed.value, file, doc, lc, (p) => inside(p) ?? p));
      for (const p of scenarioProblems(guessed.value, dirname(file))) {
        const path = inside(p.path);
        if (path) problem({ ...p, path });
      }
    }
  }
  for (const p of scenarioProblems(value, dirname(file))) problem(p);
  if (issues.length > 0 || !parsed.success) {
    throw new ScenarioError(issues.sort((a, b) => a.line - b.line || a.column - b.column));
  }
  return freeze(toScenario(parsed.data, file));
}

function toScenario(cfg: ScenarioConfig, file: string): Scenario {
  const dir = dirname(file);
  const variants = Object.keys(cfg.target.variants);
  return {
    file,
    dir,
    name: cfg.name ?? basename(file, extname(file)),
    description: cfg.description,
    target: {
      ...cfg.target,
      cwd: resolve(dir, cfg.target.cwd),
      variants: Object.fromEntries(
        Object.entries(cfg.target.variants).map(([k, v]) => [
          k,
          { ...v, cwd: v.cwd === undefined ? undefined : resolve(dir, v.cwd) },
        ]),
      ),
      defaultVariant: cfg.target.defaultVariant ?? variants[0],
    },
    database: {
      ...cfg.database,
      schema: cfg.database.schema.map((f) => resolve(dir, f)),
      seed: cfg.database.seed.map((f) => resolve(dir, f)),
      generate: cfg.database.generate && {
        ...cfg.database.generate,
        schema: cfg.database.generate.schema.map((f) => resolve(dir, f)),
      },
    },
    dependencies: Object.fromEntries(
      Object.entries(cfg.dependencies).map(([n, d]) => [n, { ...d, cwd: resolve(dir, d.cwd) }]),
    ),
    load: cfg.load,
    invariants: cfg.invariants,
    faults: cfg.faults,
    trials: cfg.trials,
  };
}

function freeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) freeze(v);
    Object.freeze(value);
  }
  return value;
}
