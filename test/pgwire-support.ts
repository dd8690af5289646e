/**
 * Real parts for the protocol-proxy tests: an embedded PostgreSQL with one login per authentication
 * method (SCRAM, md5, cleartext, trust), and a recording TCP relay that keeps every byte of every
 * connection in both directions, so what a client sent can be compared with what the server received.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Socket, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import getPort from 'get-port';
import pg from 'pg';
import { serialize } from 'pg-protocol';
import type { BackendMessage } from 'pg-protocol/dist/messages.js';
import { Parser } from 'pg-protocol/dist/parser.js';
import { PostgresServer } from '../src/env/postgres-server.js';
import { registerCleanup } from '../src/env/teardown.js';
import { killProcessesUsing } from '../src/env/watchdog.js';

export type AuthUser = 'scram' | 'md5' | 'cleartext' | 'trust';

export interface TestPostgres {
  readonly port: number;
  readonly password: string;
  /** Role name per authentication method (all superusers; `trust` needs no password). */
  readonly users: Record<AuthUser, string>;
  /** Connection settings for `user` through `port` (default: the server's own port). */
  config(user?: AuthUser, port?: number): pg.ClientConfig;
  /** `postgres://…` for `user` through `port`. */
  url(user?: AuthUser, port?: number): string;
  /** libpq keywords (psycopg2 `dsn`) for `user` through `port`. */
  dsn(user?: AuthUser, port?: number): string;
  /** Turn TLS on or off (a self-signed certificate is in place; off at start). */
  setTls(on: boolean): Promise<void>;
  stop(): Promise<void>;
}

const DB = 'app';

/**
 * Start an embedded PostgreSQL whose pg_hba.conf asks each test role for a different method. Its folder
 * is named `whatbreaks-pgwire-test-*` (not `whatbreaks-pg-*`, which other tests count as a run's).
 */
export async function startTestPostgres(): Promise<TestPostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'whatbreaks-pgwire-test-'));
  const port = await getPort({ host: '127.0.0.1' });
  const password = randomBytes(12).toString('hex');
  const server = new PostgresServer({
    dir,
    port,
    user: 'wb_scram',
    password,
    authMethod: 'scram-sha-256',
    flags: [
      ...['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'fsync=off'],
      ...['-c', `ssl_cert_file=${join(dir, 'test.crt')}`, '-c', `ssl_key_file=${join(dir, 'test.key')}`],
    ],
  });
  const dataDir = server.dataDir;
  const stop = async () => {
    await server.stop().catch(() => undefined);
    killProcessesUsing(dir);
    rmSync(dir, { recursive: true, force: true });
  };
  const unregister = registerCleanup(`test postgres on ${port}`, stop);
  await server.initialise();
  writeFileSync(
    join(dataDir, 'pg_hba.conf'),
    [
      'host all wb_md5 127.0.0.1/32 md5',
      'host all wb_cleartext 127.0.0.1/32 password',
      'host all wb_trust 127.0.0.1/32 trust',
      'host all all 127.0.0.1/32 scram-sha-256',
      '',
    ].join('\n'),
  );
  const [crt, key] = [join(dir, 'test.crt'), join(dir, 'test.key')];
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '2'].concat([
      '-keyout',
      key,
      '-out',
      crt,
    ]),
    { stdio: 'ignore' },
  );
  if (process.getuid?.() === 0) {
    const [uid, gid] = ['-u', '-g'].map((f) =>
      Number(execFileSync('id', [f, 'postgres'], { encoding: 'utf8' })),
    );
    for (const f of [crt, key]) chownSync(f, uid!, gid!);
  }
  await server.start();
  await server.createDatabase(DB);
  const users: Record<AuthUser, string> = {
    scram: 'wb_scram',
    md5: 'wb_md5',
    cleartext: 'wb_cleartext',
    trust: 'wb_trust',
  };
  const admin = new pg.Client({ host: '127.0.0.1', port, user: users.scram, password, database: DB });
  await admin.connect();
  await admin.query(`SET password_encryption = 'md5'`);
  await admin.query(`CREATE ROLE wb_md5 LOGIN SUPERUSER PASSWORD '${password}'`);
  await admin.query(`RESET password_encryption`);
  await admin.query(`CREATE ROLE wb_cleartext LOGIN SUPERUSER PASSWORD '${password}'`);
  await admin.query(`CREATE ROLE wb_trust LOGIN SUPERUSER`);
  await admin.end();
  const config = (user: AuthUser = 'scram', p = port): pg.ClientConfig => ({
    host: '127.0.0.1',
    port: p,
    user: users[user],
    password: user === 'trust' ? undefined : password,
    database: DB,
  });
  return {
    port,
    password,
    users,
    config,
    url: (user = 'scram', p = port) =>
      `postgres://${users[user]}${user === 'trust' ? '' : `:${password}`}@127.0.0.1:${p}/${DB}`,
    dsn: (user = 'scram', p = port) =>
      `host=127.0.0.1 port=${p} dbname=${DB} user=${users[user]}${user === 'trust' ? '' : ` password=${password}`}`,
    setTls: async (on) => {
      const c = new pg.Client(config());
      await c.connect();
      await c.query(on ? 'ALTER SYSTEM SET ssl = on' : 'ALTER SYSTEM RESET ssl');
      await c.query('SELECT pg_reload_conf()');
      // The postmaster reloads asynchronously; wait until a new backend reports the setting.
      for (let i = 0; i < 100; i++) {
        const probe = new pg.Client(config());
        await probe.connect();
        const { rows } = await probe.query('SHOW ssl');
        await probe.end();
        if (rows[0].ssl === (on ? 'on' : 'off')) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      await c.end();
    },
    stop: async () => {
      await stop();
      unregister();
    },
  };
}

/**
 * A hand-driven protocol client (pg-protocol's serializer out, its parser in): for what libraries do not
 * do, such as pipelining batches without waiting, GSSENCRequest, or extended-protocol COPY.
 */
export class RawClient {
  readonly received: BackendMessage[] = [];
  #socket: Socket;
  #parser = new Parser();
  #pendingBytes: number[] = [];
  #byteMode = 0;
  #waiters: (() => void)[] = [];

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', (b: Buffer) => {
      let rest = b;
      while (this.#byteMode > 0 && rest.length > 0) {
        this.#pendingBytes.push(rest[0]!);
        this.#byteMode--;
        rest = rest.subarray(1);
      }
      if (rest.length) this.#parser.parse(rest, (m) => this.received.push(m));
      for (const w of this.#waiters.splice(0)) w();
    });
    socket.on('error', () => {});
  }

  static async connect(port: number): Promise<RawClient> {
    const socket = tcpConnect({ host: '127.0.0.1', port, noDelay: true });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', reject);
    });
    return new RawClient(socket);
  }

  send(...buffers: Buffer[]): void {
    this.#socket.write(Buffer.concat(buffers));
  }

  /** Send an 8-byte request (SSLRequest, GSSENCRequest) and read the server's one-byte answer. */
  async request(code: number): Promise<string> {
    const b = Buffer.alloc(8);
    b.writeInt32BE(8, 0);
    b.writeInt32BE(code, 4);
    this.#byteMode = 1;
    this.send(b);
    await this.#until(() => this.#pendingBytes.length > 0);
    return String.fromCharCode(this.#pendingBytes.shift()!);
  }

  /** Start up as `user` (trust authentication) and wait for ReadyForQuery. */
  async startup(user: string, database = DB): Promise<void> {
    this.send(serialize.startup({ user, database }));
    await this.readyForQuery(1);
  }

  /** Wait until `n` more ReadyForQuery messages have arrived; returns the messages since the call. */
  async readyForQuery(n: number): Promise<BackendMessage[]> {
    const from = this.received.length;
    await this.#until(() => this.received.slice(from).filter((m) => m.name === 'readyForQuery').length >= n);
    return this.received.slice(from);
  }

  /** Wait for a message named `name` (pg-protocol's names, e.g. `copyInResponse`). */
  async waitFor(name: string): Promise<void> {
    const from = this.received.length;
    await this.#until(() => this.received.slice(from).some((m) => m.name === name));
  }

  /** Terminate, half-close, and wait for the server to close. */
  async end(): Promise<void> {
    this.send(serialize.end());
    this.#socket.end();
    if (!this.#socket.closed) await new Promise((r) => this.#socket.once('close', r));
  }

  #until(done: () => boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('RawClient: timed out waiting for the server')),
        30_000,
      );
      const check = () => {
        if (done()) {
          clearTimeout(timer);
          resolve();
        } else this.#waiters.push(check);
      };
      check();
    });
  }
}

/** Every byte of one relayed connection, both directions, in order. */
export interface RecordedConnection {
  /** Client → server. */
  up: Buffer[];
  /** Server → client. */
  down: Buffer[];
  closed: Promise<void>;
}

export interface Recorder {
  readonly port: number;
  readonly connections: RecordedConnection[];
  /** Resolves once every connection recorded so far has closed on both sides. */
  settled(): Promise<void>;
  /** Forget recorded connections (open ones keep recording into their own record). */
  clear(): void;
  stop(): Promise<void>;
}

/** A plain TCP relay to `upstreamPort` that records what passes. */
export async function startRecorder(upstreamPort: number): Promise<Recorder> {
  let connections: RecordedConnection[] = [];
  const sockets = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true }, (client) => {
    const upstream = tcpConnect({ host: '127.0.0.1', port: upstreamPort, allowHalfOpen: true });
    const closedOne = (s: Socket) => new Promise<void>((r) => s.once('close', () => r()));
    const rec: RecordedConnection = {
      up: [],
      down: [],
      closed: Promise.all([closedOne(client), closedOne(upstream)]).then(() => undefined),
    };
    connections.push(rec);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    const relay = (from: Socket, to: Socket, into: Buffer[]) => {
      from.on('data', (b: Buffer) => {
        into.push(Buffer.from(b));
        if (!to.destroyed) to.write(b);
      });
      from.on('end', () => {
        if (!to.destroyed) to.end();
      });
      from.on('close', (hadError) => {
        if (hadError && !to.destroyed) to.resetAndDestroy();
        else if (!to.destroyed) to.end(() => to.destroy());
      });
    };
    relay(client, upstream, rec.up);
    relay(upstream, client, rec.down);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    get connections() {
      return connections;
    },
    settled: async () => {
      await Promise.all(connections.map((c) => c.closed));
    },
    clear: () => {
      connections = [];
    },
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A connection's streams as comparable text (hex of each direction). */
export function streamsOf(c: RecordedConnection): { up: string; down: string } {
  return { up: Buffer.concat(c.up).toString('hex'), down: Buffer.concat(c.down).toString('hex') };
}
