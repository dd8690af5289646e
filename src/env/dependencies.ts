import { resolve } from 'node:path';
import { WhatbreaksError } from '../errors.js';
import { type StartedHttpFaultProxy, startHttpFaultProxy } from '../faults/http-faults.js';
import { type StartedProxy, startProxy } from '../faults/proxy.js';
import { type StartedPgProxy, startPgProxy } from '../pgwire/proxy.js';
import type { SqlRewrite } from '../pgwire/sql-rewrite.js';
import { type DependencyConfig, urlEnvOf } from './dependencies-schema.js';
import { TargetProcess } from './target-process.js';
import { registerCleanup } from './teardown.js';

/**
 * Starting the scenario's dependencies (`dependencies:`), each as a child process on a free port
 * behind its own in-process fault proxy, and the database's TCP proxy (`database.proxy: true`), with the
 * PostgreSQL protocol proxy in front of it when asked (`database.proxy: { protocol: postgres }`):
 *
 * ```
 *                         ┌─ http fault proxy "upstream" ─┐
 *   target ─UPSTREAM_URL─►│ status / abort / delay, records├──► upstream process (logs/dep-upstream.log)
 *                         └───────────────────────────────┘
 *                         ┌─ tcp fault proxy "postgres" ──┐
 *   target ─DATABASE_URL─►│ Toxiproxy toxics (latency …)   ├──► PostgreSQL (whatbreaks itself connects directly)
 *                         └───────────────────────────────┘
 *                         ┌─ protocol proxy ─┐  ┌─ tcp fault proxy "postgres" ─┐
 *   target ─DATABASE_URL─►│ steps, gate      ├─►│ Toxiproxy toxics              ├──► PostgreSQL
 *                         └──────────────────┘  └──────────────────────────────┘
 * ```
 *
 * The protocol proxy sits in front of the TCP one, not behind it: it sees the target's bytes when the
 * target sends them (a toxic's delay comes after), and every toxic keeps acting on exactly what reaches
 * PostgreSQL, so `toxic` faults on `postgres` work the same with or without it. A `down` or `reset_peer`
 * toxic reaches the target through it as a refused or reset connection.
 *
 * They start before the target (which gets their URLs) and stop after it. Processes reuse
 * `TargetProcess` (own process group, log file, health polling); every process and proxy is registered
 * with `teardown.ts`, so no path leaves one behind. Proxies live for the whole run; faults set on them
 * are reverted by the timeline at the end of each trial.
 */

/** A dependency as the environment receives it: the scenario's block, its name, an absolute `cwd`. */
export type DependencySpec = DependencyConfig & { name: string };

export interface StartedDependency {
  readonly name: string;
  readonly proxyKind: 'http' | 'tcp' | 'none';
  /** What the target is given: the proxy's address, or the process's with `proxy: none`. */
  readonly url: URL;
  /** The dependency's process (absent for `postgres`). */
  readonly process?: TargetProcess;
  /** With `proxy: http`. */
  readonly http?: StartedHttpFaultProxy;
  /** With `proxy: tcp`, and for `postgres`. */
  readonly tcp?: StartedProxy;
  /** For `postgres` with `database.proxy: { protocol: postgres }`: the protocol proxy the target reaches. */
  readonly pgwire?: StartedPgProxy;
}

/** The started dependencies of a run, by name, as faults and observers see them. */
export interface StartedDependencies {
  readonly all: readonly StartedDependency[];
  get(name: string): StartedDependency | undefined;
  /** Variables the target gets: `UPSTREAM_URL=http://127.0.0.1:<proxy port>` … */
  readonly targetEnv: Readonly<Record<string, string>>;
  stop(): Promise<void>;
}

/** The reserved name of the database's proxy. */
export const DATABASE_PROXY = 'postgres';

export interface StartDependenciesOptions {
  specs: readonly DependencySpec[];
  logsDir: string;
  /** Free port for a dependency process. */
  freePort: () => Promise<number>;
  /** Put a TCP fault proxy in front of PostgreSQL listening here (and the protocol proxy in front of it). */
  database?: { host: string; port: number; protocol?: 'tcp' | 'postgres'; rewriteSql?: SqlRewrite };
  log?: (line: string) => void;
  /** Ctrl-C during the start: a health check in progress stops with `INTERRUPTED`. */
  signal?: AbortSignal;
}

/**
 * Start every dependency (process, then health, then proxy) and the database proxy.
 * @throws WhatbreaksError `TARGET_FAILED` / `TARGET_UNHEALTHY` (naming the dependency) when one does not come up;
 *   what was started is stopped first.
 */
export async function startDependencies(o: StartDependenciesOptions): Promise<StartedDependencies> {
  const started: StartedDependency[] = [];
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    while (stops.length) await stops.pop()!().catch(() => undefined);
  };
  const guard = (label: string, fn: () => Promise<void>) => {
    const unregister = registerCleanup(label, fn);
    stops.push(async () => {
      await fn();
      unregister();
    });
  };
  try {
    if (o.database) {
      const db = { host: o.database.host, port: o.database.port };
      const tcp = await startProxy({ name: DATABASE_PROXY, upstream: db });
      guard(`proxy ${DATABASE_PROXY}`, () => tcp.stop());
      const at = (a: { host: string; port: number }) => `${a.host}:${a.port}`;
      let pgwire: StartedPgProxy | undefined;
      if (o.database.protocol === 'postgres') {
        const pg = await startPgProxy({
          name: `${DATABASE_PROXY}-protocol`,
          upstream: tcp.address,
          rewriteSql: o.database.rewriteSql,
        });
        guard(`proxy ${DATABASE_PROXY}-protocol`, () => pg.stop());
        pgwire = pg;
        o.log?.(
          `proxy ${DATABASE_PROXY} (postgres protocol at ${at(pg.address)} → tcp at ${at(tcp.address)}) → ${at(db)}`,
        );
      } else o.log?.(`proxy ${DATABASE_PROXY} (tcp) at ${at(tcp.address)} → ${at(db)}`);
      const front = pgwire?.address ?? tcp.address;
      started.push({
        name: DATABASE_PROXY,
        proxyKind: 'tcp',
        url: new URL(`tcp://${at(front)}`),
        tcp,
        ...(pgwire ? { pgwire } : {}),
      });
    }
    for (const spec of o.specs) started.push(await startOne(spec, o, guard));
  } catch (err) {
    await stop();
    throw err;
  }
  const targetEnv: Record<string, string> = {};
  for (const d of started)
    if (d.name !== DATABASE_PROXY)
      targetEnv[urlEnvOf(d.name, o.specs.find((s) => s.name === d.name)!)] = d.url.origin;
  let stopped: Promise<void> | undefined;
  return {
    all: started,
    get: (name) => started.find((d) => d.name === name),
    targetEnv,
    stop: () => {
      stopped ??= stop();
      return stopped;
    },
  };
}

async function startOne(
  spec: DependencySpec,
  o: StartDependenciesOptions,
  guard: (label: string, fn: () => Promise<void>) => void,
): Promise<StartedDependency> {
  const port = await o.freePort();
  const proc = TargetProcess.start({
    id: 0,
    launch: {
      variant: spec.name,
      command: spec.command,
      cwd: resolve(spec.cwd),
      env: spec.env,
      portEnv: spec.portEnv,
      health: spec.health,
    },
    port,
    env: {},
    logsDir: o.logsDir,
    name: `dep-${spec.name}`,
  });
  guard(`dependency ${spec.name}`, () => proc.stop());
  try {
    await proc.waitHealthy(spec.health, o.signal);
  } catch (err) {
    if (!(err instanceof WhatbreaksError)) throw err;
    throw new WhatbreaksError(err.code, `dependency ${spec.name}: ${err.message}`, err.hint, { cause: err });
  }
  o.log?.(`dependency ${spec.name} started: pid ${proc.pid}, port ${port}, log ${proc.logFile}`);
  if (spec.proxy === 'none') return { name: spec.name, proxyKind: 'none', url: proc.url, process: proc };
  if (spec.proxy === 'tcp') {
    const tcp = await startProxy({ name: spec.name, upstream: { host: proc.url.hostname, port } });
    guard(`proxy ${spec.name}`, () => tcp.stop());
    o.log?.(`proxy ${spec.name} (tcp) at ${tcp.address.host}:${tcp.address.port}`);
    return {
      name: spec.name,
      proxyKind: 'tcp',
      url: new URL(`http://${tcp.address.host}:${tcp.address.port}`),
      process: proc,
      tcp,
    };
  }
  const http = await startHttpFaultProxy({
    name: spec.name,
    upstream: proc.url,
    recordHeaders: spec.recordHeaders,
  });
  guard(`proxy ${spec.name}`, () => http.stop());
  o.log?.(`proxy ${spec.name} (http) at ${http.url.origin}`);
  return { name: spec.name, proxyKind: 'http', url: http.url, process: proc, http };
}

/** Dependency `name` with an HTTP fault proxy. @throws WhatbreaksError `USAGE` naming what exists. */
export function httpProxyOf(deps: StartedDependencies | undefined, name: string): StartedHttpFaultProxy {
  const d = deps?.get(name);
  if (d?.http) return d.http;
  throw new WhatbreaksError(
    'USAGE',
    `no dependency '${name}' behind an HTTP fault proxy (${describe(deps)})`,
  );
}

/** Dependency `name` (or `postgres`) with a TCP fault proxy. @throws WhatbreaksError `USAGE` naming what exists. */
export function tcpProxyOf(deps: StartedDependencies | undefined, name: string): StartedProxy {
  const d = deps?.get(name);
  if (d?.tcp) return d.tcp;
  throw new WhatbreaksError('USAGE', `no TCP fault proxy named '${name}' (${describe(deps)})`);
}

/**
 * The database's PostgreSQL protocol proxy (`database.proxy: { protocol: postgres }`).
 * @throws WhatbreaksError `USAGE` when the run has none.
 */
export function pgwireProxyOf(deps: StartedDependencies | undefined): StartedPgProxy {
  const p = deps?.get(DATABASE_PROXY)?.pgwire;
  if (p) return p;
  throw new WhatbreaksError(
    'USAGE',
    'this run has no PostgreSQL protocol proxy',
    'set database.proxy: { protocol: postgres } in the scenario',
  );
}

/** The proxy a scenario's `database.proxy` asks for: `true` is the TCP proxy alone; false or absent none. */
export function databaseProxyProtocol(
  proxy: boolean | { protocol: 'tcp' | 'postgres' } | undefined,
): 'tcp' | 'postgres' | undefined {
  if (!proxy) return undefined;
  return proxy === true ? 'tcp' : proxy.protocol;
}

function describe(deps: StartedDependencies | undefined): string {
  const list = deps?.all.map((d) => `${d.name}: ${d.proxyKind}`) ?? [];
  return list.length ? `proxies: ${list.join(', ')}` : 'this environment has no dependencies';
}
