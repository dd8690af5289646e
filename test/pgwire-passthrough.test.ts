import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import Cursor from 'pg-cursor';
import { serialize } from 'pg-protocol';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { PgConnectionInfo, PgProxyEvents } from '../src/pgwire/events.js';
import { StartupCode } from '../src/pgwire/frontend-messages.js';
import { type StartedPgProxy, startPgProxy } from '../src/pgwire/proxy.js';
import type { Step } from '../src/pgwire/step.js';
import { ROOT } from './helpers.js';
import {
  RawClient,
  type Recorder,
  startRecorder,
  startTestPostgres,
  streamsOf,
  type TestPostgres,
} from './pgwire-support.js';

/**
 * Byte-exact pass-through: with the default gate, every byte either way is forwarded unchanged. The
 * proxy sits between two recording relays (client → A → proxy → B → PostgreSQL); what A saw and what B
 * saw must be the same streams, connection for connection, in both directions.
 */
const execFileP = promisify(execFile);
const PY = '/usr/bin/python3';
const PY_CLIENT = join(ROOT, 'test', 'fixtures', 'pgwire-psycopg2.py');

let db: TestPostgres;
let toServer: Recorder;
let proxy: StartedPgProxy;
let fromClient: Recorder;
let steps: Step[];
let ready: PgConnectionInfo[];
let seen: Map<string, unknown[]>;
/** The arguments of every `event` the proxy emitted during this test. */
const events = <E extends keyof PgProxyEvents>(event: E): PgProxyEvents[E][] =>
  (seen.get(event) ?? []) as PgProxyEvents[E][];

beforeAll(async () => {
  db = await startTestPostgres();
  toServer = await startRecorder(db.port);
  proxy = await startPgProxy({ upstream: { host: '127.0.0.1', port: toServer.port } });
  fromClient = await startRecorder(proxy.address.port);
  proxy.on('step-done', (s) => steps.push(s));
  proxy.on('connection-ready', (c) => ready.push(c));
  for (const e of ['notification', 'cancel', 'opaque', 'server-error', 'step-lost'] as const) {
    proxy.on(e, (...args: unknown[]) => {
      const list = seen.get(e) ?? [];
      list.push(args);
      seen.set(e, list);
    });
  }
});

afterAll(async () => {
  await fromClient?.stop();
  await proxy?.stop();
  await toServer?.stop();
  await db?.stop();
});

beforeEach(() => {
  fromClient.clear();
  toServer.clear();
  steps = [];
  ready = [];
  seen = new Map();
});

/** Set by a test that compares its streams itself (with a proxy of its own). */
let ownStreams = false;

afterEach(async () => {
  if (ownStreams) {
    ownStreams = false;
    return;
  }
  await expectByteExact();
  // The proxy followed every connection to the end (a desync would turn one opaque) and lost no step.
  expect(
    events('opaque')
      .map(([info]) => info.opaqueReason)
      .filter((r) => !r?.startsWith('TLS')),
  ).toEqual([]);
  expect(events('step-lost')).toEqual([]);
});

/** Every connection A recorded has a twin at B with the same bytes both ways. */
async function expectByteExact(): Promise<void> {
  await fromClient.settled();
  await toServer.settled();
  const key = (s: { up: string; down: string }) => `${s.up.length}:${s.down.length}:${s.up}:${s.down}`;
  const a = fromClient.connections.map(streamsOf).map(key).sort();
  const b = toServer.connections.map(streamsOf).map(key).sort();
  expect(a.length).toBeGreaterThan(0);
  expect(b.length).toBe(a.length);
  for (let i = 0; i < a.length; i++) {
    // Compare lengths first: a 5 MB diff in an assertion message helps nobody.
    expect(b[i]!.slice(0, 40)).toBe(a[i]!.slice(0, 40));
    expect(b[i] === a[i]).toBe(true);
  }
}

const client = (user: 'scram' | 'md5' | 'cleartext' | 'trust' = 'scram') =>
  new pg.Client(db.config(user, fromClient.port));

describe('node-postgres (extended protocol) through the proxy', () => {
  it.each(['scram', 'md5', 'cleartext'] as const)(
    '%s authentication, queries, errors, large rows: every byte forwarded unchanged',
    async (user) => {
      const c = client(user);
      await c.connect();
      await c.query('CREATE TABLE IF NOT EXISTS items (id int PRIMARY KEY, body bytea)');
      await c.query('TRUNCATE items');
      const blob = Buffer.alloc(3_000_000, 7);
      await c.query('INSERT INTO items VALUES ($1, $2)', [1, blob]);
      const back = await c.query('SELECT body FROM items WHERE id = $1', [1]);
      expect(Buffer.compare(back.rows[0].body, blob)).toBe(0);
      const big = await c.query(`SELECT repeat('x', 4000000) AS s`);
      expect(big.rows[0].s.length).toBe(4_000_000);
      const many = await c.query('SELECT g FROM generate_series(1, 50000) AS g');
      expect(many.rowCount).toBe(50_000);
      await c.query({ name: 'by-id', text: 'SELECT id FROM items WHERE id = $1', values: [1] });
      await c.query({ name: 'by-id', text: 'SELECT id FROM items WHERE id = $1', values: [2] });
      await expect(c.query('INSERT INTO items VALUES ($1, $2)', [1, null])).rejects.toMatchObject({
        code: '23505',
      });
      await expect(c.query('SELEKT 1')).rejects.toMatchObject({ code: '42601' });
      await c.query('BEGIN');
      await expect(c.query('SELECT 1/0')).rejects.toMatchObject({ code: '22012' });
      await expect(c.query('SELECT 1')).rejects.toMatchObject({ code: '25P02' });
      await c.query('ROLLBACK');
      await c.end();

      expect(ready[0]).toMatchObject({ auth: user === 'scram' ? 'sasl' : user, protocol: '3.0' });
      expect(ready[0]!.backendPid).toBeGreaterThan(0);
      const insert = steps.find((s) => s.statements[0]?.text.startsWith('INSERT INTO items VALUES ($1, $2)'));
      expect(insert?.statements[0]?.params?.[1]).toEqual({ format: 'binary', hex: blob.toString('hex') });
      expect(insert?.results).toEqual([
        { kind: 'command', tag: 'INSERT 0 1', command: 'INSERT', rows: 1, dataRows: 0 },
      ]);
      expect(
        steps.find((s) => s.results[0]?.kind === 'command' && s.results[0].rows === 50_000)?.results[0],
      ).toMatchObject({ dataRows: 50_000 });
      const named = steps.filter((s) => s.statements[0]?.statement === 'by-id');
      expect(named.map((s) => s.messages.join(','))).toEqual([
        'Parse,Bind,Describe,Execute,Sync',
        'Bind,Describe,Execute,Sync',
      ]);
      expect(named.map((s) => s.statements[0]?.params)).toEqual([
        [{ format: 'text', value: '1' }],
        [{ format: 'text', value: '2' }],
      ]);
      expect(steps.map((s) => s.error?.sqlstate).filter(Boolean)).toEqual([
        '23505',
        '42601',
        '22012',
        '25P02',
      ]);
      const inTx = steps.filter(
        (s) => s.statements[0]?.text === 'SELECT 1/0' || s.statements[0]?.text === 'ROLLBACK',
      );
      expect(inTx.map((s) => [s.txBefore, s.txAfter])).toEqual([
        ['T', 'E'],
        ['E', 'I'],
      ]);
      expect(steps.every((s) => s.state === 'done' && s.backendPid === ready[0]!.backendPid)).toBe(true);
    },
  );

  it('COPY in and out (pg-copy-streams), and a COPY the client fails with CopyFail', async () => {
    const c = client();
    await c.connect();
    await c.query('CREATE TABLE IF NOT EXISTS lines (n int, t text)');
    await c.query('TRUNCATE lines');
    const rows = Array.from({ length: 30_000 }, (_, i) => `${i}\tline ${i}\n`).join('');
    await pipeline(
      (async function* () {
        yield Buffer.from(rows);
      })(),
      c.query(copyFrom('COPY lines FROM STDIN')),
    );
    const out: Buffer[] = [];
    await pipeline(c.query(copyTo('COPY (SELECT * FROM lines ORDER BY n) TO STDOUT')), async (source) => {
      for await (const chunk of source) out.push(chunk as Buffer);
    });
    expect(Buffer.concat(out).toString()).toBe(rows);
    // A plain query of COPY FROM STDIN: node-postgres answers CopyInResponse with CopyFail.
    await expect(c.query('COPY lines FROM STDIN')).rejects.toMatchObject({ code: '57014' });
    await c.end();
    const copies = steps.filter((s) => s.statements[0]?.text.startsWith('COPY'));
    expect(copies.map((s) => s.results[0])).toMatchObject([
      { kind: 'command', tag: 'COPY 30000', rows: 30_000 },
      { kind: 'command', tag: 'COPY 30000', rows: 30_000 },
      { kind: 'error', error: { sqlstate: '57014' } },
    ]);
  });

  it('a cursor (pg-cursor) reads pages with Execute/Flush: each is a Flush step, done at its answer (PortalSuspended)', async () => {
    const c = client();
    await c.connect();
    const cursor = c.query(new Cursor('SELECT g FROM generate_series(1, 25) AS g'));
    const pages: number[] = [];
    for (let rows = await cursor.read(10); rows.length > 0; rows = await cursor.read(10))
      pages.push(rows.length);
    await cursor.close();
    await c.end();
    expect(pages).toEqual([10, 10, 5]);
    const flushSteps = steps.filter((s) => s.boundary === 'flush');
    expect(flushSteps.map((s) => s.messages.join(','))).toEqual([
      'Parse,Bind,Describe,Flush',
      'Execute,Flush',
      'Execute,Flush',
      'Execute,Flush',
    ]);
    expect(flushSteps.map((s) => s.results[0])).toEqual([
      undefined,
      { kind: 'suspended', dataRows: 10 },
      { kind: 'suspended', dataRows: 10 },
      { kind: 'command', tag: 'SELECT 5', command: 'SELECT', rows: 5, dataRows: 5 },
    ]);
    expect(flushSteps.every((s) => s.txAfter === undefined && s.state === 'done')).toBe(true);
  });

  it('LISTEN/NOTIFY: the notification reaches the listener and is reported', async () => {
    const listener = client();
    const talker = client();
    await Promise.all([listener.connect(), talker.connect()]);
    await listener.query('LISTEN jobs');
    const got = new Promise<pg.Notification>((r) => listener.once('notification', r));
    await talker.query(`NOTIFY jobs, 'job 7 done'`);
    expect(await got).toMatchObject({ channel: 'jobs', payload: 'job 7 done' });
    await Promise.all([listener.end(), talker.end()]);
    expect(events('notification')[0]?.[0]).toMatchObject({ channel: 'jobs', payload: 'job 7 done' });
  });

  it('a cancel request on its own connection cancels the running query', async () => {
    const c = client();
    await c.connect();
    const running = proxy.waitFor('step-released', (s) => s.statements[0]?.text === 'SELECT pg_sleep(30)');
    const query = c.query(new pg.Query('SELECT pg_sleep(30)'));
    const failed = new Promise<unknown>((resolve) => query.on('error', resolve));
    await running;
    const canceller = client();
    // biome-ignore lint/suspicious/noExplicitAny: Client#cancel is node-postgres' own (untyped) API.
    (canceller as any).cancel(c, query);
    expect(await failed).toMatchObject({ code: '57014' });
    await c.end();
    const pid = (c as unknown as { processID: number }).processID;
    expect(events('cancel')[0]?.[0]).toEqual({ pid, connectionId: ready[0]!.id });
  });
});

describe('psycopg2 (libpq, simple Query protocol) through the proxy', () => {
  const py = async (command: string, dsn: string) =>
    JSON.parse((await execFileP(PY, [PY_CLIENT, command, dsn], { timeout: 60_000 })).stdout);

  it('SSLRequest answered N by the server, queries, errors, large rows, COPY in and out', async () => {
    const out = await py('session', db.dsn('scram', fromClient.port));
    expect(out).toMatchObject({
      ssl_in_use: false,
      unique_violation: '23505',
      large_len: 3_000_000,
      copied_out_lines: 20_002,
      copy_error: '22P02',
      count: 20_002,
    });
    const multi = steps.find((s) => s.statements.length === 4);
    expect(multi?.statements.map((s) => s.text)).toEqual([
      'BEGIN',
      `UPDATE py_items SET note = 'x' WHERE id = 1`,
      `UPDATE py_items SET note = 'y' WHERE id = 2`,
      'COMMIT',
    ]);
    expect(multi?.results.map((r) => (r.kind === 'command' ? r.tag : r.kind))).toEqual([
      'BEGIN',
      'UPDATE 1',
      'UPDATE 1',
      'COMMIT',
    ]);
    expect(multi?.messages).toEqual(['Query']);
  });

  it('md5 authentication', async () => {
    const out = await py('session', db.dsn('md5', fromClient.port));
    expect(out.count).toBe(20_002);
    expect(ready[0]?.auth).toBe('md5');
  });

  it('PQcancel: a CancelRequest cancels the running query', async () => {
    const out = await py('cancel', db.dsn('scram', fromClient.port));
    expect(out.code).toBe('57014');
    expect(events('cancel')[0]?.[0]).toEqual({ pid: out.backend_pid, connectionId: ready[0]!.id });
  });

  it('LISTEN/NOTIFY', async () => {
    const out = await py('listen', db.dsn('scram', fromClient.port));
    expect(out.notifications).toEqual([['jobs', 'job 7 done']]);
  });

  it('TLS accepted by the server: the bytes flow, the connection is reported opaque', async () => {
    await db.setTls(true);
    try {
      const out = await py('tls', db.dsn('scram', fromClient.port));
      expect(out).toEqual({ ssl_in_use: true, value: 42 });
    } finally {
      await db.setTls(false);
    }
    expect(events('opaque').map(([info]) => info.opaqueReason)).toContain(
      'TLS: the server accepted SSLRequest',
    );
  });
});

describe("ssl: 'refuse'", () => {
  it('the proxy answers SSLRequest N itself: a prefer client stays in plain text though the server has TLS', async () => {
    ownStreams = true;
    const refusing = await startPgProxy({
      upstream: { host: '127.0.0.1', port: toServer.port },
      ssl: 'refuse',
    });
    const front = await startRecorder(refusing.address.port);
    const seenSteps: Step[] = [];
    refusing.on('step-done', (s) => seenSteps.push(s));
    await db.setTls(true);
    try {
      const { stdout } = await execFileP(PY, [PY_CLIENT, 'session', db.dsn('scram', front.port)], {
        timeout: 60_000,
      });
      expect(JSON.parse(stdout)).toMatchObject({ ssl_in_use: false, count: 20_002 });
      await front.settled();
      await toServer.settled();
    } finally {
      await db.setTls(false);
      await front.stop();
      await refusing.stop();
    }
    expect(seenSteps.length).toBeGreaterThan(10);
    // What the server got is what the client sent minus the SSLRequest; the client got 'N' and the rest.
    const [client] = front.connections.map(streamsOf);
    const [server] = toServer.connections.map(streamsOf);
    expect(client!.up.slice(0, 16)).toBe('0000000804d2162f');
    expect(client!.up.slice(16) === server!.up).toBe(true);
    expect(client!.down.slice(0, 2)).toBe('4e');
    expect(client!.down.slice(2) === server!.down).toBe(true);
  });
});

describe('a hand-driven client', () => {
  it('GSSENCRequest and SSLRequest refused by the server, then startup with trust authentication', async () => {
    const raw = await RawClient.connect(fromClient.port);
    expect(await raw.request(StartupCode.GSSENCRequest)).toBe('N');
    expect(await raw.request(StartupCode.SSLRequest)).toBe('N');
    await raw.startup(db.users.trust);
    await raw.end();
    expect(ready[0]).toMatchObject({ auth: 'trust', parameters: { user: db.users.trust } });
  });

  it('pipelines batches without waiting, an error in the middle skips only its own batch', async () => {
    const raw = await RawClient.connect(fromClient.port);
    await raw.startup(db.users.trust);
    raw.send(
      serialize.parse({ text: 'SELECT $1::int AS a' }),
      serialize.bind({ values: ['1'] }),
      serialize.describe({ type: 'P' }),
      serialize.execute(),
      serialize.sync(),
      serialize.query('SELECT 1/0'),
      serialize.parse({ text: 'SELEKT broken' }),
      serialize.bind(),
      serialize.execute(),
      serialize.sync(),
      serialize.parse({ text: 'SELECT $1::text AS b' }),
      serialize.bind({ values: ['after the error'] }),
      serialize.describe({ type: 'P' }),
      serialize.execute(),
      serialize.sync(),
      serialize.query('SELECT 2; SELECT 3'),
    );
    await raw.readyForQuery(5);
    await raw.end();
    expect(
      steps.map((s) => [
        s.seq,
        s.boundary,
        s.results.map((r) => (r.kind === 'error' ? r.error.sqlstate : r.kind)),
      ]),
    ).toEqual([
      [1, 'sync', ['command']],
      [2, 'query', ['22012']],
      [3, 'sync', ['42601']],
      [4, 'sync', ['command']],
      [5, 'query', ['command', 'command']],
    ]);
    expect(steps[3]!.statements[0]?.params).toEqual([{ format: 'text', value: 'after the error' }]);
  });

  it('extended-protocol COPY FROM STDIN: the Sync sent with it is ignored, the one after CopyDone answered', async () => {
    const raw = await RawClient.connect(fromClient.port);
    await raw.startup(db.users.trust);
    raw.send(serialize.query('CREATE TABLE IF NOT EXISTS xcopy (n int)'));
    await raw.readyForQuery(1);
    raw.send(
      serialize.parse({ text: 'COPY xcopy FROM STDIN' }),
      serialize.bind(),
      serialize.execute(),
      serialize.sync(),
    );
    await raw.waitFor('copyInResponse');
    raw.send(serialize.copyData(Buffer.from('1\n2\n3\n')), serialize.copyDone(), serialize.sync());
    const answers = await raw.readyForQuery(1);
    expect(answers.map((m) => m.name)).toEqual(['commandComplete', 'readyForQuery']);
    await raw.end();
    const [, copy, sync] = steps;
    expect(copy).toMatchObject({ boundary: 'sync', results: [{ tag: 'COPY 3', rows: 3 }] });
    expect(copy!.txAfter).toBeUndefined();
    expect(sync).toMatchObject({ messages: ['Sync'], txAfter: 'I' });
  });
});
