import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { z } from 'zod';
import { dependenciesSchema } from '../env/dependencies-schema.js';
import { checkInvariant, type InvariantConfig } from '../invariants/registry.js';
import { type LoadConfig, plannedLoadDurationMs } from '../load/registry.js';
import type { FaultConfig } from '../timeline/registry.js';
import { validateFaults } from '../timeline/validate.js';
import { rawAt } from './issues.js';
import { databaseSchema, scenarioSchema, targetSchema } from './schema.js';

/**
 * The checks a scenario needs beyond its schema — files it names exist, fields agree with each other,
 * faults name things that exist — run in the same pass as the schema, so one run of `validate` reports
 * every problem: a missing invariant name does not hide a missing schema file. Each check runs on the
 * parts of the file that are valid on their own (a section, or one fault), so a broken `load` still lets
 * the files and the target be checked.
 */
export interface Problem {
  path: (string | number)[];
  message: string;
  hint?: string;
}

type Shape = typeof scenarioSchema.shape;
type Parsed<K extends keyof Shape> = z.output<Shape[K]> | undefined;

function parsePart<S extends z.ZodType>(schema: S, value: unknown): z.output<S> | undefined {
  const r = schema.safeParse(value);
  return r.success ? r.data : undefined;
}

/** Problems of `value` (the YAML document as plain data) not covered by the schema; `dir`: the scenario's folder. */
export function scenarioProblems(value: unknown, dir: string): Problem[] {
  const out: Problem[] = [];
  const at = (path: (string | number)[], message: string, hint?: string) =>
    out.push({ path, message, ...(hint ? { hint } : {}) });
  const fileHint = `paths are relative to the scenario file's folder (${dir})`;

  // Files and folders, from the raw values: they need nothing else to be valid.
  const checkPath = (path: (string | number)[], kind: 'file' | 'dir') => {
    const rel = rawAt(value, path);
    if (typeof rel !== 'string' || rel.length === 0) return;
    const abs = resolve(dir, rel);
    const looksLikeSql =
      kind === 'file' && /^\s*(insert|update|delete|create|alter|select|with|begin)\s/i.test(rel);
    if (!existsSync(abs))
      at(
        path,
        `${kind === 'dir' ? 'folder' : 'file'} not found: ${rel} (resolved to ${abs})`,
        looksLikeSql ? 'this names SQL files; SQL written inline goes in database.setup' : fileHint,
      );
    else if (kind === 'dir' && !statSync(abs).isDirectory()) at(path, `not a folder: ${rel}`);
    else if (kind === 'file' && !statSync(abs).isFile()) at(path, `not a file: ${rel}`);
  };
  const checkFiles = (path: (string | number)[]) => {
    const v = rawAt(value, path);
    if (!Array.isArray(v)) return checkPath(path, 'file');
    for (let i = 0; i < v.length; i++) checkPath([...path, i], 'file');
  };
  checkPath(['target', 'cwd'], 'dir');
  checkFiles(['database', 'schema']);
  checkFiles(['database', 'seed']);
  checkFiles(['database', 'generate', 'schema']);
  for (const key of ['dependencies', 'target.variants'] as const) {
    const path = key.split('.');
    const block = rawAt(value, path);
    if (block && typeof block === 'object' && !Array.isArray(block)) {
      for (const name of Object.keys(block)) checkPath([...path, name, 'cwd'], 'dir');
    }
  }

  const raw = (k: string) => rawAt(value, [k]);
  const target: Parsed<'target'> = parsePart(targetSchema, raw('target'));
  const database = parsePart(databaseSchema.prefault({}), raw('database'));
  const dependencies = parsePart(dependenciesSchema, raw('dependencies'));
  const load = parsePart(scenarioSchema.shape.load, raw('load')) as LoadConfig | undefined;

  if (target) {
    // An external target (`target.url`) is not started by whatbreaks; its database is not ours to reset.
    if ((target.command === undefined) === (target.url === undefined)) {
      at(['target'], 'give either command (whatbreaks starts the target) or url (it is already running)');
    }
    if (target.url !== undefined && target.restart === 'per-trial') {
      at(
        ['target', 'restart'],
        'an external target is not started by whatbreaks: it cannot be restarted per trial',
      );
    }
    if (target.url !== undefined && target.replicas > 1) {
      at(['target', 'replicas'], 'an external target is one address: replicas need command');
    }
    const names = Object.keys(target.variants);
    if (target.defaultVariant !== undefined && !names.includes(target.defaultVariant)) {
      at(
        ['target', 'defaultVariant'],
        `no variant named '${target.defaultVariant}'; variants: ${names.join(', ') || '(none)'}`,
      );
    }
  }
  if (database?.url !== undefined) {
    if (target && target.url === undefined)
      at(['database', 'url'], 'an existing database goes with an external target (target.url)');
    for (const key of ['schema', 'seed'] as const) {
      if (database[key].length > 0) {
        at(
          ['database', key],
          'not with database.url: whatbreaks never re-creates an existing database (use setup)',
        );
      }
    }
  }

  const invariants = raw('invariants');
  if (Array.isArray(invariants)) {
    const seen = new Set<string>();
    invariants.forEach((inv, i) => {
      const name = rawAt(inv, ['name']);
      if (typeof name !== 'string') return;
      if (seen.has(name)) at(['invariants', i, 'name'], `invariant name '${name}' is used twice`);
      seen.add(name);
    });
    // Checks an invariant type makes against the rest of the scenario (e.g. herd: its dependency).
    if (dependencies) {
      const invariantSchema = scenarioSchema.shape.invariants.element;
      invariants.forEach((inv, i) => {
        const cfg = parsePart(invariantSchema, inv) as InvariantConfig | undefined;
        if (!cfg) return;
        for (const issue of checkInvariant(cfg, { dependencies }))
          at(['invariants', i, issue.field], issue.message);
      });
    }
  }

  // Faults: each one that is valid on its own is checked against what the scenario declares.
  const faults = raw('faults');
  if (Array.isArray(faults) && target && dependencies && database) {
    const faultSchema = scenarioSchema.shape.faults.unwrap().element;
    const parsed = faults.map((f) => parsePart(faultSchema, f) as FaultConfig | undefined);
    const ctx = {
      replicas: target.replicas,
      loadDurationMs: load ? plannedLoadDurationMs(load) : undefined,
      dependencies: {
        ...Object.fromEntries(Object.entries(dependencies).map(([n, d]) => [n, d.proxy])),
        ...(database.proxy ? { postgres: 'tcp' as const } : {}),
      },
    };
    if (parsed.every((f) => f !== undefined)) {
      for (const p of validateFaults(parsed as FaultConfig[], ctx)) at(p.path, p.message);
    } else {
      // Overlaps between faults are judged once every fault is valid; each valid one is checked alone.
      parsed.forEach((f, i) => {
        if (!f) return;
        for (const p of validateFaults([f], ctx)) at(['faults', i, ...p.path.slice(2)], p.message);
      });
    }
  }
  return out;
}
