import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Command, InvalidArgumentError } from 'commander';
import { STUBS, stubNamed } from '../env/stubs.js';
import { WhatbreaksError } from '../errors.js';

/** The package root: `dist/src/cli/` → three folders up. */
const PACKAGE_ROOT = new URL('../../../', import.meta.url);

/**
 * `whatbreaks stub <name> [options]`: run one of the stub services shipped with the package
 * (`src/env/stubs.ts`) in this process, so it can be a dependency's `command` in any scenario. Options
 * become the environment variables the stub reads; `PORT` from whatbreaks is kept unless `--port` is
 * given.
 */
export function registerStub(program: Command): void {
  const cmd = program
    .command('stub')
    .description(`run a stub service for use as a dependency: ${STUBS.map((s) => s.name).join(', ')}`)
    .argument('<name>', `the stub: ${STUBS.map((s) => s.name).join(' | ')}`)
    .option('--print-schema', "print the stub's database schema (SQL) and exit")
    .allowUnknownOption(false);
  const seen = new Set<string>();
  for (const s of STUBS) {
    for (const o of s.options) {
      if (seen.has(o.flag)) continue;
      seen.add(o.flag);
      cmd.option(
        o.flag,
        `${o.description} (${o.env}; stubs: ${STUBS.filter((x) => x.options.some((y) => y.flag === o.flag))
          .map((x) => x.name)
          .join(', ')})`,
      );
    }
  }
  cmd.action(async (name: string, opts: Record<string, string | boolean | undefined>) => {
    const stub = stubNamed(name);
    if (!stub) {
      throw new WhatbreaksError(
        'USAGE',
        `no stub named '${name}'`,
        `stubs: ${STUBS.map((s) => s.name).join(', ')} (docs/scenarios.md, "Stub services")`,
      );
    }
    if (opts.printSchema) {
      if (!stub.schema) throw new WhatbreaksError('USAGE', `stub '${name}' needs no database schema`);
      process.stdout.write(readFileSync(fileURLToPath(new URL(stub.schema, PACKAGE_ROOT)), 'utf8'));
      return;
    }
    for (const o of STUBS.flatMap((s) => s.options)) {
      const key = camel(o.flag);
      if (opts[key] === undefined) continue;
      if (!stub.options.some((x) => x.flag === o.flag)) {
        throw new InvalidArgumentError(`${o.flag.split(' ')[0]} does not apply to stub '${name}'`);
      }
      process.env[o.env] = String(opts[key]);
    }
    await import(new URL(`dist/${stub.module}`, PACKAGE_ROOT).href);
    // The stub listens until SIGTERM/SIGINT, which its own handlers answer by exiting; never returning
    // keeps the CLI's exit timer (main.ts) from ending it.
    await new Promise<never>(() => {});
  });
}

/** `--latency-ms <ms>` → `latencyMs` (commander's option key). */
function camel(flag: string): string {
  return flag
    .split(' ')[0]!
    .replace(/^--/, '')
    .replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
}
