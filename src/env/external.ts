import { WhatbreaksError } from '../errors.js';
import { PostgresDatabase } from './postgres-database.js';
import type { Database, EnvironmentProvider, StartedEnvironment } from './types.js';

/**
 * A target that is already running (`target.url`): nothing to start and nothing to tear down. Its
 * database, if the scenario names one (`database.url`), is queried by `sql` invariants and gets only the
 * scenario's `setup` SQL before each trial — whatbreaks never drops or re-creates anything in a database
 * it did not create. Without `database.url`, `sql` invariants are `unknown`. Process nemeses
 * (kill/restart a replica) do not apply: whatbreaks does not own the process.
 *
 * Remote addresses are refused before this provider is chosen unless `--allow-remote` (`safety.ts`).
 */
export function external(opts: { databaseUrl?: string }): EnvironmentProvider {
  return {
    kind: 'external',
    async start(spec) {
      const url = spec.target.url;
      if (!url) throw new WhatbreaksError('USAGE', 'the external environment needs target.url');
      const database: Database = opts.databaseUrl ? existingDatabase(opts.databaseUrl) : noDatabase();
      spec.log?.(`external target at ${url}${opts.databaseUrl ? ', existing database' : ', no database'}`);
      let stopped: Promise<void> | undefined;
      const notOurs = (what: string) =>
        new WhatbreaksError(
          'USAGE',
          `${what}: the target is external (target.url); whatbreaks does not own its process`,
        );
      const env: StartedEnvironment = {
        kind: 'external',
        targetUrl: new URL(url),
        database,
        replicas: [],
        killReplica: () => {
          throw notOurs('kill-replica');
        },
        restartReplica: async () => {
          throw notOurs('restart-replica');
        },
        restoreReplicas: async () => {},
        wasKilled: () => false,
        stop: () => {
          stopped ??= database.close();
          return stopped;
        },
        [Symbol.asyncDispose]: () => env.stop(),
      };
      return env;
    },
  };
}

/** An existing database: queries pass through; `reset` only runs the SQL it is given (the `setup`). */
function existingDatabase(url: string): Database {
  const db = new PostgresDatabase(url);
  return {
    url,
    query: (sql, params) => db.query(sql, params),
    reset: (sql) => db.apply(sql),
    close: () => db.close(),
  };
}

function noDatabase(): Database {
  return {
    url: '',
    async query() {
      throw new WhatbreaksError(
        'USAGE',
        'this scenario has no database (an external target without database.url)',
      );
    },
    async reset() {},
    async close() {},
  };
}
