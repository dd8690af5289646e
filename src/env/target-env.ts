import { targetApplicationName } from './types.js';

/**
 * The environment every replica of a target started by whatbreaks gets (`local`; `docker` passes the same
 * names into the container), in one place: `local.ts` builds it here and `docs/scenarios.md` prints its
 * table from `TARGET_ENVIRONMENT_DOCS`, so the two cannot disagree (`target-env.test.ts`).
 */
export interface TargetDatabase {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

/**
 * The variables replica `id` gets, besides the port (in `target.portEnv`, default `PORT`), the variant's
 * `env` and the dependencies' URLs (`<NAME>_URL`). `db` is the address the target should use: the
 * database's fault proxy when `database.proxy` is on.
 */
export function targetDatabaseEnv(id: number, db: TargetDatabase): Record<string, string> {
  return {
    INSTANCE_ID: String(id),
    DATABASE_URL: `postgres://${db.user}:${db.password}@${db.host}:${db.port}/${db.database}`,
    PGHOST: db.host,
    PGPORT: String(db.port),
    PGUSER: db.user,
    PGPASSWORD: db.password,
    PGDATABASE: db.database,
    // Lets `pg-terminate-backends` find this replica's connections (libpq, node-postgres, psycopg honour it).
    PGAPPNAME: targetApplicationName(id),
  };
}

/** One row of the target environment's table in `docs/scenarios.md`. */
export interface TargetEnvDoc {
  name: string;
  value: string;
  example: string;
}

export const TARGET_ENVIRONMENT_DOCS: readonly TargetEnvDoc[] = [
  {
    name: 'PORT',
    value:
      'The port this replica must listen on, on 127.0.0.1 (a free port chosen per replica). The variable is `target.portEnv` (default `PORT`); `{{port}}` in `command` is the same number.',
    example: '41327',
  },
  { name: 'INSTANCE_ID', value: 'The replica number, 0 … `replicas` − 1.', example: '0' },
  {
    name: 'DATABASE_URL',
    value:
      "The run's PostgreSQL (through the database's fault proxy when `database.proxy: true`), as a libpq connection URL.",
    example: 'postgres://whatbreaks:5f0c…@127.0.0.1:41301/app',
  },
  { name: 'PGHOST', value: 'Host of the same database (libpq variables).', example: '127.0.0.1' },
  { name: 'PGPORT', value: 'Its port.', example: '41301' },
  { name: 'PGUSER', value: 'Its user.', example: 'whatbreaks' },
  { name: 'PGPASSWORD', value: 'Its password (random per run).', example: '5f0c…' },
  { name: 'PGDATABASE', value: 'Its database name.', example: 'app' },
  {
    name: 'PGAPPNAME',
    value:
      "`application_name` for the replica's connections (libpq, psycopg, node-postgres and pgx honour it): `pg-terminate-backends` finds them by it.",
    example: 'whatbreaks-target-0',
  },
  {
    name: '<NAME>_URL',
    value:
      'One per dependency: the base URL of its fault proxy (`dependencies.<name>.urlEnv`, default the name upper-cased with `_URL`).',
    example: 'UPSTREAM_URL=http://127.0.0.1:41333',
  },
];
