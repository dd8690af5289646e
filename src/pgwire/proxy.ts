/**
 * The PostgreSQL protocol proxy: an in-process TCP proxy between a target and PostgreSQL that reads the
 * wire protocol on the way, cuts the client's messages into steps (`step.ts`), and lets a gate hold a
 * step until it is released (`gate.ts`). With the default gate it is a byte-exact pass-through that only
 * observes.
 *
 * ```
 *                    ┌────────────── protocol proxy ───────────────┐
 *  target (client) ◄─┼─► connection: frames, steps, gate, tracker ◄┼─► PostgreSQL (or the TCP fault proxy)
 *                    └─────────────────────────────────────────────┘
 * ```
 *
 * ```ts
 * await using pg = await startPgProxy({ upstream: { host: '127.0.0.1', port: 5432 }, gate: Gate.holdAll() });
 * const step = await pg.waitFor('step-held');        // a step of some connection, held
 * pg.release(step);                                   // exactly its bytes go to the server
 * await pg.waitFor('step-done', (s) => s === step);   // its ReadyForQuery came back
 * ```
 *
 * A CancelRequest arrives on a connection of its own and is passed to the server unchanged; the server
 * finds the backend by the pid and key it names (they came from that server, through the proxy). A
 * cancel for a connection whose step is held reaches an idle backend and cancels nothing, as it would
 * if it had arrived before the query.
 */
import { EventEmitter } from 'node:events';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { WhatbreaksError } from '../errors.js';
import type { HostPort } from '../faults/proxy.js';
import { PgConnection } from './connection.js';
import type { PgConnectionInfo, PgProxyEvents } from './events.js';
import { passThrough, type StepGate } from './gate.js';
import type { SqlRewrite } from './sql-rewrite.js';
import type { Step } from './step.js';

export interface PgProxyOptions {
  /** Names the proxy in errors and logs; default `postgres-protocol`. */
  name?: string;
  /** Where PostgreSQL (or the next proxy) listens. */
  upstream: HostPort;
  /** Default `127.0.0.1`. */
  listenHost?: string;
  /** Default 0: an ephemeral port (read it from `address`). */
  listenPort?: number;
  /** Decides when steps go; default `passThrough` (all at once). Can be changed later (`proxy.gate`). */
  gate?: StepGate;
  /**
   * `pass` (default): an SSLRequest or GSSENCRequest goes to the server, and if the server accepts it
   * the connection turns opaque (encrypted: no steps). `refuse`: the proxy answers 'N' itself, so the
   * client goes on in plain text (`sslmode=prefer` clients do; `require` ones give up).
   */
  ssl?: 'pass' | 'refuse';
  /** Replaces the SQL of each Query and Parse (`sql-rewrite.ts`); default none: byte-exact. Can be changed later. */
  rewriteSql?: SqlRewrite;
  /** Monotonic clock, ms; default `performance.now`. */
  clock?: () => number;
  /** Called when a gate or an event listener throws (the proxy goes on). Default: ignore. */
  onError?: (error: unknown) => void;
}

export interface StartedPgProxy extends AsyncDisposable {
  readonly name: string;
  /** Where clients connect. */
  readonly address: HostPort;
  readonly upstream: HostPort;
  /** The gate asked about each new step; replacing it does not release steps already held. */
  gate: StepGate;
  /**
   * While true, the server's bytes to each client (after startup) are kept at the proxy until
   * `deliverAnswers(connectionId)`: a scheduler decides when a client sees a step's result, so at most one
   * client runs on at a time. Default false. Setting it false does not deliver what is kept.
   */
  holdAnswers: boolean;
  /** Replaces the SQL of each Query and Parse the clients send from now on; undefined: byte-exact. */
  rewriteSql: SqlRewrite | undefined;
  /**
   * Write to the client of connection `connectionId` the server bytes kept for it (answers held).
   * Returns how many bytes (0 when nothing was kept or the connection is gone).
   */
  deliverAnswers(connectionId: number): number;
  /** Connections accepted since start. */
  readonly acceptedCount: number;
  /** Open connections, in accept order. */
  connections(): PgConnectionInfo[];
  /** Held steps, oldest first (at most one per connection). */
  held(): Step[];
  /** Steps sent and not yet answered, oldest first. */
  running(): Step[];
  /**
   * Send a held step: exactly its bytes go to the server, then whatever its connection queued behind it
   * (up to the next step the gate holds).
   * @throws WhatbreaksError `USAGE` when the step is not held.
   */
  release(step: Step): void;
  /** Release every held step, oldest first (steps queued behind them still ask the gate). Returns how many. */
  releaseAll(): number;
  on<E extends keyof PgProxyEvents>(event: E, listener: (...args: PgProxyEvents[E]) => void): this;
  off<E extends keyof PgProxyEvents>(event: E, listener: (...args: PgProxyEvents[E]) => void): this;
  /**
   * The first `event` (after this call) whose first argument satisfies `predicate`.
   * @throws the signal's reason when `signal` aborts first (e.g. `AbortSignal.timeout(5000)`).
   */
  waitFor<E extends keyof PgProxyEvents>(
    event: E,
    predicate?: (...args: PgProxyEvents[E]) => boolean,
    signal?: AbortSignal,
  ): Promise<PgProxyEvents[E][0]>;
  /** Close the listener and every connection; idempotent. */
  stop(): Promise<void>;
}

/**
 * Start a protocol proxy listening on `listenHost:listenPort`.
 * @throws WhatbreaksError `ENV_UNAVAILABLE` when it cannot listen.
 */
export async function startPgProxy(options: PgProxyOptions): Promise<StartedPgProxy> {
  const proxy = new PgProxy(options);
  await proxy.listen();
  return proxy;
}

class PgProxy extends EventEmitter<PgProxyEvents> implements StartedPgProxy {
  readonly name: string;
  readonly upstream: HostPort;
  gate: StepGate;
  holdAnswers = false;
  rewriteSql: SqlRewrite | undefined;
  readonly #ssl: 'pass' | 'refuse';
  readonly #clock: () => number;
  readonly #onError: (error: unknown) => void;
  #listenHost: string;
  #listenPort: number;
  #server: Server | undefined;
  #connections = new Set<PgConnection>();
  #accepted = 0;
  #stepIds = 0;
  #stopped = false;

  constructor(o: PgProxyOptions) {
    super();
    this.name = o.name ?? 'postgres-protocol';
    this.upstream = { ...o.upstream };
    this.gate = o.gate ?? passThrough;
    this.rewriteSql = o.rewriteSql;
    this.#ssl = o.ssl ?? 'pass';
    this.#clock = o.clock ?? (() => performance.now());
    this.#onError = o.onError ?? (() => {});
    this.#listenHost = o.listenHost ?? '127.0.0.1';
    this.#listenPort = o.listenPort ?? 0;
  }

  get address(): HostPort {
    return { host: this.#listenHost, port: this.#listenPort };
  }

  get acceptedCount(): number {
    return this.#accepted;
  }

  async listen(): Promise<void> {
    const server = createServer({ allowHalfOpen: true, noDelay: true }, (c) => this.#accept(c));
    server.on('error', () => {});
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.#listenPort, this.#listenHost, () => resolve());
      });
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

  connections(): PgConnectionInfo[] {
    return [...this.#connections].map((c) => c.info);
  }

  held(): Step[] {
    return this.#steps((c) => (c.held ? [c.held] : []));
  }

  running(): Step[] {
    return this.#steps((c) => c.running);
  }

  release(step: Step): void {
    const conn = [...this.#connections].find((c) => c.info.id === step.connectionId);
    if (!conn || conn.held !== step) {
      throw new WhatbreaksError(
        'USAGE',
        `proxy "${this.name}": step ${step.id} (connection ${step.connectionId}) is not held; it is ${step.state}`,
        'release only steps from held() or a step-held event, once each',
      );
    }
    conn.release(step);
  }

  deliverAnswers(connectionId: number): number {
    const conn = [...this.#connections].find((c) => c.info.id === connectionId);
    return conn ? conn.deliverAnswers() : 0;
  }

  releaseAll(): number {
    const held = this.held();
    for (const s of held) this.release(s);
    return held.length;
  }

  override emit<E extends keyof PgProxyEvents>(event: E, ...args: PgProxyEvents[E]): boolean {
    try {
      // biome-ignore lint/suspicious/noExplicitAny: EventEmitter's typed emit cannot follow the generic E.
      return (super.emit as any)(event, ...args);
    } catch (error) {
      this.#onError(error);
      return true;
    }
  }

  waitFor<E extends keyof PgProxyEvents>(
    event: E,
    predicate?: (...args: PgProxyEvents[E]) => boolean,
    signal?: AbortSignal,
  ): Promise<PgProxyEvents[E][0]> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const listener = (...args: PgProxyEvents[E]) => {
        if (predicate && !predicate(...args)) return;
        cleanup();
        resolve(args[0]);
      };
      const onAbort = () => {
        cleanup();
        reject(signal!.reason);
      };
      const cleanup = () => {
        // biome-ignore lint/suspicious/noExplicitAny: same as emit.
        this.off(event, listener as any);
        signal?.removeEventListener('abort', onAbort);
      };
      // biome-ignore lint/suspicious/noExplicitAny: same as emit.
      this.on(event, listener as any);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    const server = this.#server;
    this.#server = undefined;
    const closed = server ? new Promise<void>((r) => server.close(() => r())) : Promise.resolve();
    const conns = [...this.#connections];
    for (const c of conns) c.destroy();
    await Promise.all([closed, ...conns.map((c) => c.closed)]);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  #steps(pick: (c: PgConnection) => Step[]): Step[] {
    return [...this.#connections].flatMap(pick).sort((a, b) => a.id - b.id);
  }

  #accept(client: Socket): void {
    if (this.#stopped) {
      client.destroy();
      return;
    }
    this.#accepted++;
    client.setNoDelay(true);
    // Half-open like the client side: bytes the client sends after the server's FIN still go to it (a TLS
    // close_notify after Terminate), as they would on a direct connection.
    const server = tcpConnect({
      host: this.upstream.host,
      port: this.upstream.port,
      noDelay: true,
      allowHalfOpen: true,
    });
    const proxy = this;
    const conn = new PgConnection(this.#accepted, client, server, {
      clock: this.#clock,
      nextStepId: () => ++this.#stepIds,
      get gate() {
        return proxy.gate;
      },
      ssl: this.#ssl,
      get holdAnswers() {
        return proxy.holdAnswers;
      },
      get rewriteSql() {
        return proxy.rewriteSql;
      },
      emit: (event, ...args) => this.emit(event, ...args),
      onError: this.#onError,
      connectionIdOfPid: (pid) => [...this.#connections].find((c) => c.info.backendPid === pid)?.info.id,
    });
    this.#connections.add(conn);
    void conn.closed.then(() => this.#connections.delete(conn));
    // The upstream could not be reached: tell the client the hard way, as a refused connection would.
    let connected = false;
    server.once('connect', () => {
      connected = true;
    });
    server.once('error', () => {
      if (!connected && !client.destroyed) client.resetAndDestroy();
    });
  }
}
