import { readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { ScenarioError, WhatbreaksError } from '../errors.js';
import { loadScenario } from '../scenario/load.js';

export interface ScenarioListing {
  file: string;
  name?: string;
  description?: string;
  variants: string[];
  defaultVariant?: string;
  /** First problem when the file is not a valid scenario. */
  invalid?: string;
}

/** Every `*.yaml` / `*.yml` in `dir` (not recursive), loaded and validated. */
export function listScenarios(dir: string): ScenarioListing[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((f) => /\.ya?ml$/i.test(f));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new WhatbreaksError(
      'SCENARIO_NOT_FOUND',
      code === 'ENOENT'
        ? `no folder ${dir} to list scenarios from`
        : code === 'ENOTDIR'
          ? `${dir} is a file, not a folder of scenarios`
          : `cannot read folder ${dir}: ${code ?? err}`,
      code === 'ENOENT' || code === 'ENOTDIR'
        ? 'without an argument, whatbreaks list looks in ./scenarios; name the folder: whatbreaks list <dir>'
        : undefined,
    );
  }
  return names.sort().map((f) => {
    const file = join(dir, f);
    try {
      const s = loadScenario(file);
      return {
        file,
        name: s.name,
        description: s.description,
        variants: Object.keys(s.target.variants),
        defaultVariant: s.target.defaultVariant,
      };
    } catch (err) {
      const msg =
        err instanceof ScenarioError
          ? `${err.issues.length} problem(s), first: ${err.message.split('\n')[0]}`
          : (err as Error).message;
      return { file, variants: [], invalid: msg };
    }
  });
}

/** `whatbreaks list [dir]`: the scenarios in a folder (default `scenarios`). */
export function registerList(program: Command): void {
  program
    .command('list')
    .description('list the scenarios in a folder: name, description, variants, file')
    .argument('[dir]', 'folder of scenario files', 'scenarios')
    .option('--json', 'print JSON')
    .action((dir: string, opts: { json?: boolean }) => {
      const list = listScenarios(resolve(dir));
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
        return;
      }
      if (list.length === 0) process.stdout.write(`no scenario files (*.yaml) in ${dir}\n`);
      for (const s of list) {
        const file = relative(process.cwd(), s.file) || s.file;
        if (s.invalid) {
          process.stdout.write(`${file}\n  INVALID: ${s.invalid}\n`);
          continue;
        }
        const variants = s.variants.map((v) => (v === s.defaultVariant ? `${v} (default)` : v)).join(', ');
        process.stdout.write(
          `${s.name}  [${variants || 'no variants'}]  ${file}\n${s.description ? `  ${s.description}\n` : ''}`,
        );
      }
    });
}
