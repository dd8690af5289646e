import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, resolve } from 'node:path';
import { LineCounter, parseDocument, visit } from 'yaml';
import type { z } from 'zod';
import { ScenarioError, type ScenarioIssue, WhatbreaksError } from '../errors.js';
import { checkInvariant } from '../invariants/registry.js';
import { plannedLoadDurationMs } from '../load/registry.js';
import { validateFaults } from '../timeline/validate.js';
import { closest, knownKeysAt, locate } from './locate.js';
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

  const parsed = scenarioSchema.safeParse(value);
  if (!parsed.success) {
    throw new ScenarioError(zodIssues(parsed.error.issues, value, file, doc, lc));
  }
  const cfg = parsed.data;
  const dir = dirname(file);

  // Cross-field checks and files the scenario refers to: all collected, then thrown together.
  const at = (path: (string | number)[], message: string) => {
    const pos = locate(doc, lc, path);
    issues.push({ file, ...pos, field: path.join('.'), message });
  };
  const checkFile = (path: (string | number)[], rel: string, kind: 'file' | 'dir') => {
    const abs = resolve(dir, rel);
    if (!existsSync(abs))
      at(path, `${kind === 'dir' ? 'folder' : 'file'} not found: ${rel} (resolved to ${abs})`);
    else if (kind === 'dir' && !statSync(abs).isDirectory()) at(path, `not a folder: ${rel}`);
    else if (kind === 'file' && !statSync(abs).isFile()) at(path, `not a file: ${rel}`);
    return abs;
  };
  checkFile(['target', 'cwd'], cfg.target.cwd, 'dir');
  for (const key of ['schema', 'seed'] as const) {
    const listed = Array.isArray(rawAt(value, ['database', key]));
    cfg.database[key].forEach((f, i) => {
      checkFile(['database', key, ...(listed ? [i] : [])], f, 'file');
    });
  }
  const generated = cfg.database.generate?.schema ?? [];
  const generatedListed = Array.isArray(rawAt(value, ['database', 'generate', 'schema']));
  generated.forEach((f, i) => {
    checkFile(['database', 'generate', 'schema', ...(generatedListed ? [i] : [])], f, 'file');
  });
  for (const [name, d] of Object.entries(cfg.dependencies))
    checkFile(['dependencies', name, 'cwd'], d.cwd, 'dir');
  for (const [name, v] of Object.entries(cfg.target.variants)) {
    if (v.cwd !== undefined) checkFile(['target', 'variants', name, 'cwd'], v.cwd, 'dir');
  }
  // An external target (`target.url`) is not started by whatbreaks; its database is not ours to reset.
  if ((cfg.target.command === undefined) === (cfg.target.url === undefined)) {
    at(['target'], 'give either command (whatbreaks starts the target) or url (it is already running)');
  }
  if (cfg.database.url !== undefined) {
    if (cfg.target.url === undefined)
      at(['database', 'url'], 'an existing database goes with an external target (target.url)');
    for (const key of ['schema', 'seed'] as const) {
      if (cfg.database[key].length > 0) {
        at(
          ['database', key],
          `not with database.url: whatbreaks never re-creates an existing database (use setup)`,
        );
      }
    }
  }
  if (cfg.target.url !== undefined && cfg.target.replicas > 1) {
    at(['target', 'replicas'], 'an external target is one address: replicas need command');
  }
  const variantNames = Object.keys(cfg.target.variants);
  if (cfg.target.defaultVariant !== undefined && !variantNames.includes(cfg.target.defaultVariant)) {
    at(
      ['target', 'defaultVariant'],
      `no variant named '${cfg.target.defaultVariant}'; variants: ${variantNames.join(', ') || '(none)'}`,
    );
  }
  const names = new Set<string>();
  cfg.invariants.forEach((inv, i) => {
    if (names.has(inv.name)) at(['invariants', i, 'name'], `invariant name '${inv.name}' is used twice`);
    names.add(inv.name);
    for (const issue of checkInvariant(inv, { dependencies: cfg.dependencies }))
      at(['invariants', i, issue.field], issue.message);
  });
  for (const issue of validateFaults(cfg.faults, {
    replicas: cfg.target.replicas,
    loadDurationMs: plannedLoadDurationMs(cfg.load),
    dependencies: {
      ...Object.fromEntries(Object.entries(cfg.dependencies).map(([n, d]) => [n, d.proxy])),
      ...(cfg.database.proxy ? { postgres: 'tcp' as const } : {}),
    },
  }))
    at(issue.path, issue.message);
  if (issues.length > 0) throw new ScenarioError(issues);

  return freeze(toScenario(cfg, file));
}

function rawAt(value: unknown, path: string[]): unknown {
  let v = value;
  for (const k of path) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

function zodIssues(
  zissues: readonly z.core.$ZodIssue[],
  value: unknown,
  file: string,
  doc: ReturnType<typeof parseDocument>,
  lc: LineCounter,
): ScenarioIssue[] {
  const out: ScenarioIssue[] = [];
  const pathOf = (issue: z.core.$ZodIssue) =>
    issue.path.filter((k): k is string | number => typeof k !== 'symbol');
  // A misspelled key also shows up as the real key missing: report it once, as the misspelling.
  const suggested = new Set<string>();
  for (const issue of zissues) {
    if (issue.code !== 'unrecognized_keys') continue;
    const path = pathOf(issue);
    const known = knownKeysAt(scenarioSchema, path, value);
    for (const key of issue.keys) {
      const guess = closest(key, known);
      const hint = guess ? `did you mean '${guess}'?` : known.length ? `known keys: ${known.join(', ')}` : '';
      if (guess) suggested.add([...path, guess].join('.'));
      out.push({
        file,
        ...locate(doc, lc, [...path, key]),
        field: [...path, key].join('.'),
        message: `unknown key '${key}'${hint ? `; ${hint}` : ''}`,
      });
    }
  }
  for (const issue of zissues) {
    if (issue.code === 'unrecognized_keys') continue;
    const path = pathOf(issue);
    const missing = path.length > 0 && rawAt(value, path.map(String)) === undefined;
    if (missing && suggested.has(path.join('.'))) continue;
    let message = issue.message;
    if (missing && (issue.code === 'invalid_type' || issue.code === 'invalid_union')) {
      message = `required field '${String(path.at(-1))}' is missing`;
    }
    out.push({ file, ...locate(doc, lc, path), field: path.join('.'), message });
  }
  return out.sort((a, b) => a.line - b.line || a.column - b.column);
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
