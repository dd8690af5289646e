/**
 * The fault proxy: an in-process TCP proxy with Toxiproxy's semantics (Shopify/toxiproxy), placed between
 * a target and one dependency (an upstream HTTP service, PostgreSQL).
 *
 * ```
 *                    ┌──────────────── proxy "db" ─────────────────┐
 *  Client (target) ◄─┼─► [toxics downstream / toxics upstream] ◄──┼─► Upstream (dependency)
 *                    └─────────────────────────────────────────────┘
 *                       upstream   = client → server
 *                       downstream = server → client
 * ```
 *
 * Every accepted connection gets a link per direction through that direction's active toxics
 * (`link.ts`, `toxic.ts`). Toxics added or removed at runtime take effect on open connections too, and
 * no byte in flight is lost when they do. Toxicity is rolled once per connection and toxic with the
 * injected, seeded random source, so a run replays.
 *
 * ```ts
 * await using db = await startProxy({ name: 'db', upstream: { host: '127.0.0.1', port: 5432 } });
 * await db.addToxic({ type: 'latency', attributes: { latency: 200 } });
 * // point the target at db.address …
 * await db.removeToxic('latency_downstream');
 * ```
 */
import { once } from 'node:events';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { WhatbreaksError } from '../errors.js';
import { ProxyConnection } from './connection.js';
import type { ActiveToxic } from './link.js';
import { DEFAULT_SEED, mulberry32, type Random } from './random.js';
import type { ProxyControl } from './toxic.js';
import { createToxic, parseToxicConfig, type ToxicConfig, type ToxicConfigInput } from './toxics/registry.js';

export interface HostPort {
  host: string;
  port: number;
}

export interface ProxyOptions {
  /** Names the proxy in errors and listings (e.g. `db`, `payments`). */
  name: string;
  /** Where the dependency listens. */
  upstream: HostPort;
  /** Default `127.0.0.1`. */
  listenHost?: string;
  /** Default 0: an ephemeral port (read it from `address`). */
  listenPort?: number;
  /** Source of randomness for toxicity and jitter; default `mulberry32(seed)`. */
  random?: Random;
  /** Seed for the default random source; default `DEFAULT_SEED`. */
  seed?: number;
  /** Monotonic clock, ms; default `performance.now`. */
  clock?: () => number;
  /** Called when a toxic throws (a bug in whatbreaks; the connection is dropped). Default: ignore. */
  onError?: (error: unknown) => void;
}

/** A toxic as listed by `listToxics()`: its configuration with defaults applied and its name. */
export type ToxicInfo = ToxicConfig & { name: string };

export interface StartedProxy extends AsyncDisposable {
  readonly name: string;
  /** Where clients connect. */
  readonly address: HostPort;
  readonly upstream: HostPort;
  /** Open client connections. */
  readonly connectionCount: number;
  /** Connections accepted since start. */
  readonly acceptedCount: number;
  /**
   * Validate and activate a toxic (Toxiproxy JSON shape: `{ type, name?, stream?, toxicity?, attributes }`),
   * on open connections and new ones. Rejects an invalid config or a duplicate name.
   */
  addToxic(config: ToxicConfigInput): Promise<ToxicInfo>;
  /** Deactivate a toxic everywhere, without dropping data in flight. Rejects an unknown name. */
  removeToxic(name: string): Promise<void>;
  /** Remove every toxic. */
  removeAllToxics(): Promise<void>;
  listToxics(): ToxicInfo[];
  /** Close the listener and every connection; idempotent. */
  stop(): Promise<void>;
}

export async function startProxy(options: ProxyOptions): Promise<StartedProxy> {
  const proxy = new FaultProxy(options);
  await proxy.listen();
  return proxy;
}

class FaultProxy implements StartedProxy, ProxyControl {
  readonly name: string;
  readonly upstream: HostPort;
  #listenHost: string;
  #listenPort: number;
  #server: Server | undefined;
  #connections = new Set<ProxyConnection>();
  #toxics: { active: ActiveToxic; undo: () => Promise<void> }[] = [];
  #random: Random;
  #clock: () => number;
  #onError: (error: unknown) => void;
  #accepted = 0;
  #stopped = false;
  /** Toxic changes run one at a time, in call order. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(o: ProxyOptions) {
    this.name = o.name;
    this.upstream = { ...o.upstream };
    this.#listenHost = o.listenHost ?? '127.0.0.1';
    this.#listenPort = o.listenPort ?? 0;
    this.#random = o.random ?? mulberry32(o.seed ?? DEFAULT_SEED);
    this.#clock = o.clock ?? (() => performance.now());
    this.#onError = o.onError ?? (() => {});
  }

  get address(): HostPort {
    return { host: this.#listenHost, port: this.#listenPort };
  }

  get connectionCount(): number {
    return this.#connections.size;
  }

  get acceptedCount(): number {
    return this.#accepted;
  }

  async listen(): Promise<void> {
    const server = createServer({ allowHalfOpen: true, noDelay: true }, (c) => this.#accept(c));
    server.on('error', () => {}); // listen errors are reported below; later ones cannot happen to a listener
    try {
      server.listen(this.#listenPort, this.#listenHost);
      await once(server, 'listening');
    } catch (error) {
      throw new WhatbreaksError(
        'ENV_UNAVAILABLE',
        `proxy "${this.name}" cannot listen on ${this.#listenHost}:${this.#listenPort}: ${(error as Error).message}`,
        this.#listenPort ? 'choose another listenPort, or 0 for a free one' : undefined,
        { cause: error },
      );
    }
    const addr = server.address();
    if (addr && typeof addr === 'object') this.#listenPort = addr.port;
    this.#server = server;
  }

  // ProxyControl, for `down: refuse`.
  async stopListening(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    // close() stops accepting at once; its callback would wait for open connections, which we keep.
    server?.close();
  }

  async startListening(): Promise<void> {
    if (this.#server || this.#stopped) return;
    await this.listen();
  }

  addToxic(input: ToxicConfigInput): Promise<ToxicInfo> {
    return this.#serialize(async () => {
      const config = parseToxicConfig(input);
      const name = config.name ?? `${config.type}_${config.stream}`;
      if (this.#toxics.some((t) => t.active.name === name)) {
        throw new WhatbreaksError(
          'USAGE',
          `proxy "${this.name}" already has a toxic named "${name}"`,
          'give each toxic a distinct name, or remove the old one first',
        );
      }
      const active: ActiveToxic = { name, config: { ...config, name }, toxic: createToxic(config) };
      const undo = (await active.toxic.activate?.(this)) ?? (async () => {});
      this.#toxics.push({ active, undo });
      for (const c of this.#connections) c.addToxic(active);
      return { ...config, name };
    });
  }

  removeToxic(name: string): Promise<void> {
    return this.#serialize(async () => {
      const i = this.#toxics.findIndex((t) => t.active.name === name);
      if (i < 0) {
        const known = this.#toxics.map((t) => t.active.name).join(', ') || 'none';
        throw new WhatbreaksError(
          'USAGE',
          `proxy "${this.name}" has no toxic named "${name}" (active: ${known})`,
        );
      }
      const [entry] = this.#toxics.splice(i, 1);
      await Promise.all([...this.#connections].map((c) => c.removeToxic(name)));
      await entry!.undo();
    });
  }

  async removeAllToxics(): Promise<void> {
    for (const t of this.listToxics().reverse()) await this.removeToxic(t.name);
  }

  listToxics(): ToxicInfo[] {
    return this.#toxics.map((t) => ({ ...t.active.config, name: t.active.name }));
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    const server = this.#server;
    this.#server = undefined;
    const closedServer = server ? new Promise<void>((r) => server.close(() => r())) : Promise.resolve();
    const conns = [...this.#connections];
    for (const c of conns) c.destroy();
    await Promise.all([closedServer, ...conns.map((c) => c.closed)]);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  #accept(client: Socket): void {
    if (this.#stopped) {
      client.destroy();
      return;
    }
    this.#accepted++;
    client.setNoDelay(true);
    const server = tcpConnect({ host: this.upstream.host, port: this.upstream.port, allowHalfOpen: true });
    server.setNoDelay(true);
    const conn = new ProxyConnection(
      this.#accepted,
      client,
      server,
      this.#random,
      this.#clock,
      this.#onError,
    );
    this.#connections.add(conn);
    void conn.closed.then(() => this.#connections.delete(conn));
    for (const t of this.#toxics) conn.addToxic(t.active);
  }

  #serialize<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => {});
    return run;
  }
}
