import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PostgreSqlContainer, type StartedPostgreSqlContainer } from '@testcontainers/postgresql';
import getPort from 'get-port';
import {
  GenericContainer,
  getContainerRuntimeClient,
  Network,
  type StartedNetwork,
  Wait,
} from 'testcontainers';
import { WhatbreaksError } from '../errors.js';
import { DockerReplica } from './docker-replica.js';
import type { DockerTarget } from './docker-target.js';
import { type LoadBalancer, startLoadBalancer } from './load-balancer.js';
import { runSyncInOwnSession } from './own-session.js';
import { PostgresDatabase } from './postgres-database.js';
import { registerCleanup } from './teardown.js';
import type { EnvironmentProvider, EnvironmentSpec, StartedEnvironment } from './types.js';

/** PostgreSQL image when neither the CLI nor `WHATBREAKS_POSTGRES_IMAGE` names one. */
export const DEFAULT_POSTGRES_IMAGE = 'postgres:16';
/** Label on every container of a run; its value is the run's id. The sweep removes by it. */
export const RUN_LABEL = 'dev.whatbreaks.run';
/** Network alias of PostgreSQL: the target reaches it as `db:5432`, inside the run's network. */
const DB_ALIAS = 'db';
const DB_NAME = 'app';
const DB_USER = 'whatbreaks';
/** How long the sweep waits for containers still being created before it removes what exists, ms. */
const SWEEP_WAIT_MS = 10_000;
/** How long removing a run's containers and network may take before the sweep gives up and says so, ms. */
const REMOVE_WAIT_MS = 30_000;

export interface DockerOptions {
  /** PostgreSQL image (official-image compatible: POSTGRES_USER/PASSWORD/DB); default `postgres:16`. */
  postgresImage?: string;
}

/**
 * The container environment (Testcontainers): PostgreSQL and every replica of the target as containers on
 * a network of their own.
 *
 * ```
 *  whatbreaks ──127.0.0.1:<lb>──► load balancer (replicas > 1)
 *      │                              │ 127.0.0.1:<fixed host port>
 *      │                              ▼
 *      │                     ┌── network whatbreaks-… ──────────────────┐
 *      │                     │ target-0, target-1 … ──db:5432──► postgres │
 *      │                     └────────────────────────────────────────────┘
 *      └──127.0.0.1:<mapped port>──► postgres   (resets, invariants)
 * ```
 *
 * The target's `DATABASE_URL` names the `db` alias, so its traffic to the database stays inside the run's
 * network; whatbreaks itself resets and queries the database through the published port. Replicas are
 * containers named `target-<i>`; kill/restart are `docker kill` / `docker restart`. `target.memoryLimitMiB`
 * becomes the containers' cgroup memory limit (OOM kills show as `exit.signal = SIGKILL`, `oomKilled`).
 *
 * Teardown: every container carries the label `dev.whatbreaks.run=<id>`; one cleanup registered with
 * `teardown.ts` removes them all and the network — on success, failure, Ctrl-C — even ones whose start
 * was interrupted (Testcontainers' Ryuk reaper is not needed and is disabled by default here: it has to
 * be pulled from a registry, which not every engine can reach).
 */
export function docker(target: DockerTarget, options: DockerOptions = {}): EnvironmentProvider {
  return {
    kind: 'docker',
    async start(spec) {
      const stack: (() => Promise<void>)[] = [];
      const teardown = async () => {
        while (stack.length) await stack.pop()!().catch(() => undefined);
      };
      try {
        return await startDocker(target, options, spec, stack, teardown);
      } catch (err) {
        await teardown();
        throw err;
      }
    },
  };
}

async function startDocker(
  target: DockerTarget,
  options: DockerOptions,
  spec: EnvironmentSpec,
  stack: (() => Promise<void>)[],
  teardown: () => Promise<void>,
): Promise<StartedEnvironment> {
  process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
  const runId = randomBytes(6).toString('hex');
  const labels = { [RUN_LABEL]: runId };
  const logsDir = join(spec.runDir, 'logs');
  mkdirSync(logsDir, { recursive: true });

  // One sweep for the whole run: whatever exists with our label (and our network) goes, however we got here.
  // A container or network still being created when the sweep starts (Ctrl-C during a start) is waited
  // for (at most SWEEP_WAIT_MS) so it is removed too.
  let network: StartedNetwork | undefined;
  let inFlight = 0;
  const track = async <T>(p: Promise<T>): Promise<T> => {
    inFlight++;
    try {
      return await p;
    } finally {
      inFlight--;
    }
  };
  const sweep = async () => {
    const deadline = performance.now() + SWEEP_WAIT_MS;
    while (inFlight > 0 && performance.now() < deadline) await sleep(100);
    await removeRun(runId, network?.getId());
  };
  const unregister = registerCleanup(`docker containers of run ${runId}`, sweep, () =>
    removeRunSync(runId, network?.getId()),
  );
  stack.push(async () => {
    await sweep();
    unregister();
  });

  const image = await prepareImage(target, spec, logsDir);

  network = await track(new Network().start());
  spec.log?.(`docker network ${network.getName()}`);

  const postgresImage =
    options.postgresImage ?? process.env.WHATBREAKS_POSTGRES_IMAGE ?? DEFAULT_POSTGRES_IMAGE;
  const password = randomBytes(16).toString('hex');
  const pgLog = createWriteStream(join(logsDir, 'postgres.log'), { flags: 'a' });
  stack.push(() => new Promise<void>((r) => pgLog.end(r)));
  let pg: StartedPostgreSqlContainer;
  try {
    pg = await track(
      new PostgreSqlContainer(postgresImage)
        .withNetwork(network)
        .withNetworkAliases(DB_ALIAS)
        .withDatabase(DB_NAME)
        .withUsername(DB_USER)
        .withPassword(password)
        .withLabels(labels)
        // Testcontainers' PostgreSQL module leaves a Docker healthcheck running `pg_isready` in the container
        // every 250 ms for the container's whole life: a `docker exec` each time, ≈ 22 % of a core here
        // (measured), landing inside bursts. Readiness is polled during the start only; the healthcheck is
        // off (`["NONE"]`, Docker Engine API HealthConfig, which Testcontainers' type does not list).
        .withHealthCheck({ test: ['NONE'] } as unknown as Parameters<GenericContainer['withHealthCheck']>[0])
        .withWaitStrategy(
          Wait.forAll([
            // `--host localhost`: the official image's init-time server listens on the socket only.
            Wait.forSuccessfulCommand(
              `PGPASSWORD=${password} pg_isready --host localhost --username ${DB_USER} --dbname ${DB_NAME}`,
            ),
            Wait.forListeningPorts(),
          ]),
        )
        .withCommand([
          'postgres',
          '-c',
          `max_connections=${spec.maxConnections}`,
          // Commits flush the WAL, as in production, unless the scenario says `fsync: false` (see
          // OWN_SESSION_OPTIONS in postgres-database.ts).
          '-c',
          `fsync=${spec.fsync === false ? 'off' : 'on'}`,
          '-c',
          'full_page_writes=off',
        ])
        .withLogConsumer((s) => {
          s.on('data', (c: Buffer | string) => {
            if (pgLog.writable) pgLog.write(c);
          });
          s.on('error', () => undefined);
        })
        .start(),
    );
  } catch (err) {
    throw new WhatbreaksError(
      'DATABASE_FAILED',
      `PostgreSQL container (${postgresImage}) did not start: ${(err as Error).message ?? String(err)}`,
      `its log: ${join(logsDir, 'postgres.log')}; choose another image with --postgres-image or WHATBREAKS_POSTGRES_IMAGE`,
      { cause: err },
    );
  }
  const host = pg.getHost() === 'localhost' ? '127.0.0.1' : pg.getHost();
  const hostUrl = `postgres://${DB_USER}:${password}@${host}:${pg.getPort()}/${DB_NAME}`;
  const innerUrl = `postgres://${DB_USER}:${password}@${DB_ALIAS}:5432/${DB_NAME}`;
  spec.log?.(
    `postgres container ${shortId(pg.getId())} (${postgresImage}) ready: ${host}:${pg.getPort()} for whatbreaks, ${DB_ALIAS}:5432 inside the network (max_connections=${spec.maxConnections})`,
  );
  const database = new PostgresDatabase(hostUrl);
  stack.push(() => database.close());
  await spec.prepareDatabase?.(database);

  const replicaCount = spec.replicas ?? 1;
  const hostPorts: number[] = [];
  for (let i = 0; i < replicaCount; i++) hostPorts.push(await getPort({ exclude: hostPorts }));
  const current: DockerReplica[] = [];
  const killed = new Set<number>();
  const pendingKills = new Map<number, Promise<void>>();
  stack.push(async () => {
    await Promise.all(current.map((r) => r.stop()));
  });
  const launch = async (id: number): Promise<DockerReplica> => {
    const replica = await track(
      DockerReplica.start({
        id,
        image,
        network: network!,
        containerPort: target.port,
        hostPort: hostPorts[id]!,
        health: spec.target.health,
        memoryLimitMiB: target.memoryLimitMiB,
        labels,
        logsDir,
        name: `target-${id}`,
        env: {
          ...spec.target.env,
          INSTANCE_ID: String(id),
          DATABASE_URL: innerUrl,
          PGHOST: DB_ALIAS,
          PGPORT: '5432',
          PGUSER: DB_USER,
          PGPASSWORD: password,
          PGDATABASE: DB_NAME,
          PGAPPNAME: `whatbreaks-target-${id}`,
          HOST: '0.0.0.0',
          [spec.target.portEnv]: String(target.port),
        },
      }),
    );
    current[id] = replica;
    spec.log?.(
      `target ${id}: container ${shortId(replica.containerId)} (${image}), ${replica.url.origin}, log ${replica.logFile}`,
    );
    return replica;
  };
  for (let id = 0; id < replicaCount; id++) {
    if (id > 0 && spec.startStaggerMs) await sleep(spec.startStaggerMs);
    await launch(id);
  }

  let targetUrl = current[0]!.url;
  let balancer: LoadBalancer | undefined;
  if (replicaCount > 1) {
    const lb = await startLoadBalancer({
      ...spec.loadBalancer,
      upstreams: current.map((r) => ({ id: r.id, url: r.url })),
    });
    stack.push(() => lb.stop());
    balancer = lb;
    targetUrl = lb.url;
    spec.log?.(
      `load balancer (${spec.loadBalancer?.policy ?? 'round-robin'}) at ${lb.url.origin} over ${replicaCount} containers`,
    );
  }

  const replicaAt = (id: number): DockerReplica => {
    const r = current[id];
    if (!r) {
      throw new WhatbreaksError(
        'USAGE',
        `no replica ${id}: the target has ${replicaCount} (0..${replicaCount - 1})`,
      );
    }
    return r;
  };
  const restarting = new Set<number>();
  const restartReplica: StartedEnvironment['restartReplica'] = async (id, opts = {}) => {
    const r = replicaAt(id);
    restarting.add(id);
    try {
      await pendingKills.get(id);
      await r.restart(opts);
      killed.delete(id);
      return { pid: r.pid };
    } finally {
      restarting.delete(id);
    }
  };

  let stopped: Promise<void> | undefined;
  const env: StartedEnvironment = {
    balancer,
    kind: 'docker',
    targetUrl,
    database,
    get replicas() {
      return [...current];
    },
    killReplica(id, signal = 'SIGKILL') {
      const r = replicaAt(id);
      killed.add(id);
      const pid = r.pid;
      pendingKills.set(
        id,
        r.kill(signal).finally(() => pendingKills.delete(id)),
      );
      return { pid };
    },
    restartReplica,
    async restoreReplicas() {
      for (const r of [...current]) {
        await pendingKills.get(r.id);
        if (r.exit || killed.has(r.id)) await restartReplica(r.id);
      }
    },
    wasKilled: (id) => killed.has(id) || restarting.has(id),
    stop: () => {
      stopped ??= teardown();
      return stopped;
    },
    [Symbol.asyncDispose]: () => env.stop(),
  };
  spec.log?.(`target healthy at ${targetUrl.origin}`);
  return env;
}

/**
 * The image to run: as named, or built from the Dockerfile (tagged `target.image`, kept afterwards so the
 * next build reuses its layers). The build's output goes nowhere Testcontainers shows by default: a
 * failure says how to see it.
 */
async function prepareImage(target: DockerTarget, spec: EnvironmentSpec, logsDir: string): Promise<string> {
  const build = target.build;
  if (!build) return target.image;
  if (
    build.dockerfile.startsWith('targets/') &&
    !existsSync(join(build.context, 'dist', 'targets')) &&
    existsSync(join(build.context, 'package.json'))
  ) {
    throw new WhatbreaksError(
      'ENV_UNAVAILABLE',
      `the example targets' Dockerfiles copy the compiled targets from ${join(build.context, 'dist', 'targets')}, which does not exist`,
      'run `npm run build` first',
    );
  }
  const t0 = performance.now();
  spec.log?.(`building ${target.image} from ${join(build.context, build.dockerfile)}…`);
  try {
    await GenericContainer.fromDockerfile(build.context, build.dockerfile)
      .withBuildArgs({ ...build.buildArgs })
      .build(target.image, { deleteOnExit: false });
  } catch (err) {
    throw new WhatbreaksError(
      'ENV_UNAVAILABLE',
      `could not build ${target.image} from ${join(build.context, build.dockerfile)}: ${(err as Error).message ?? String(err)}`,
      `build it by hand to see why: docker build -f ${build.dockerfile}${Object.entries(build.buildArgs)
        .map(([k, v]) => ` --build-arg ${k}=${v}`)
        .join('')} ${build.context}  (or rerun with DEBUG=testcontainers:build); logs: ${logsDir}`,
      { cause: err },
    );
  }
  spec.log?.(`built ${target.image} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return target.image;
}

/**
 * Remove every container labelled with this run (and their anonymous volumes), then the network, and
 * return only once the engine lists none of them: `docker rm -f` of a container whose removal is already
 * under way (the owner's teardown and a Ctrl-C sweep at once) answers 409 at once, while a storage driver
 * like vfs can take seconds to delete a container's files.
 * @throws Error naming what is left when containers or the network still exist after `waitMs` (ms).
 */
export async function removeRun(
  runId: string,
  networkId: string | undefined,
  waitMs = REMOVE_WAIT_MS,
): Promise<void> {
  const client = await getContainerRuntimeClient();
  const deadline = performance.now() + waitMs;
  const ours = () =>
    client.container.dockerode.listContainers({ all: true, filters: { label: [`${RUN_LABEL}=${runId}`] } });
  for (let left = await ours(); left.length > 0; left = await ours()) {
    if (performance.now() > deadline) {
      throw new Error(
        `containers of run ${runId} still exist after ${waitMs} ms: ${left.map((c) => `${shortId(c.Id)} (${c.State})`).join(', ')}`,
      );
    }
    await Promise.all(
      left
        .filter((c) => c.State !== 'removing')
        .map((c) =>
          client.container
            .getById(c.Id)
            .remove({ force: true, v: true })
            .catch(() => undefined),
        ),
    );
    await sleep(100);
  }
  if (!networkId) return;
  for (;;) {
    try {
      await client.network.getById(networkId).remove();
      return;
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return;
      if (performance.now() > deadline) {
        throw new Error(
          `network ${shortId(networkId)} of run ${runId} could not be removed: ${(err as Error).message}`,
        );
      }
      await sleep(100);
    }
  }
}

/**
 * Last resort at process exit (no event loop left): the same through the `docker` CLI, if there is one,
 * blocking until the engine lists none of the run's containers (at most `REMOVE_WAIT_MS`).
 */
export function removeRunSync(runId: string, networkId: string | undefined): void {
  const deadline = Date.now() + REMOVE_WAIT_MS;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    const ps = runSyncInOwnSession('docker', ['ps', '-aq', '--filter', `label=${RUN_LABEL}=${runId}`], {
      timeout: 10_000,
    });
    if (ps.error || ps.status !== 0) break;
    const ids = ps.stdout.split('\n').filter(Boolean);
    if (ids.length === 0 || Date.now() > deadline) break;
    runSyncInOwnSession('docker', ['rm', '-fv', ...ids], { stdio: 'ignore', timeout: 20_000 });
    Atomics.wait(pause, 0, 0, 100);
  }
  if (networkId)
    runSyncInOwnSession('docker', ['network', 'rm', networkId], { stdio: 'ignore', timeout: 10_000 });
}

function shortId(id: string | undefined): string {
  return (id ?? '?').slice(0, 12);
}
