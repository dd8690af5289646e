import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BlockedProbe } from '../src/pgwire/blocked.js';
import { holdWhen, passThrough } from '../src/pgwire/gate.js';
import { type StartedPgProxy, startPgProxy } from '../src/pgwire/proxy.js';
import type { Step } from '../src/pgwire/step.js';
import { startTestPostgres, type TestPostgres } from './pgwire-support.js';

/**
 * Holding and releasing steps against a real PostgreSQL: the order the proxy releases steps in is the
 * order the server executes them, a step waiting for a row lock is seen as blocked, and a check-then-act
 * race happens or not depending only on the order chosen.
 */
let db: TestPostgres;
let proxy: StartedPgProxy;
let probe: BlockedProbe;
const clients: pg.Client[] = [];

beforeAll(async () => {
  db = await startTestPostgres();
  proxy = await startPgProxy({ upstream: { host: '127.0.0.1', port: db.port } });
  probe = await BlockedProbe.connect(db.url());
  const setup = new pg.Client(db.config());
  await setup.connect();
  await setup.query(`
    CREATE TABLE counter (id int PRIMARY KEY, log text NOT NULL DEFAULT '');
    CREATE TABLE jobs (id int PRIMARY KEY, state text NOT NULL);
    CREATE TABLE completions (job int, who text);
    CREATE TABLE accounts (id int PRIMARY KEY, balance int);`);
  await setup.end();
});

afterAll(async () => {
  await probe?.close();
  await proxy?.stop();
  await db?.stop();
});

afterEach(async () => {
  proxy.gate = passThrough;
  proxy.holdAnswers = false;
  proxy.releaseAll();
  for (const c of proxy.connections()) proxy.deliverAnswers(c.id);
  await Promise.all(clients.splice(0).map((c) => c.end().catch(() => undefined)));
});

async function connect(n: number): Promise<pg.Client[]> {
  const out: pg.Client[] = [];
  for (let i = 0; i < n; i++) {
    const c = new pg.Client(db.config('scram', proxy.address.port));
    c.on('error', () => {});
    await c.connect();
    out.push(c);
    clients.push(c);
  }
  return out;
}

/** Wait until `n` steps accepted by `pick` are held; returns them, oldest first. */
async function heldSteps(n: number, pick: (s: Step) => boolean = () => true): Promise<Step[]> {
  for (;;) {
    const held = proxy.held().filter(pick);
    if (held.length >= n) return held;
    await proxy.waitFor('step-held', undefined, AbortSignal.timeout(20_000));
  }
}

/** Resolves once `step`'s result is complete (at once if it already is). */
const done = async (step: Step): Promise<void> => {
  if (step.state !== 'done') await proxy.waitFor('step-done', (s) => s === step, AbortSignal.timeout(20_000));
};
const sqlHas = (text: string) => (s: Readonly<Step>) => s.statements.some((st) => st.text.includes(text));
const pidOf = (c: pg.Client) => (c as unknown as { processID: number }).processID;

/** Run `sql` directly (not through the proxy); the first column of the last statement's first row. */
async function direct(sql: string): Promise<unknown> {
  const c = new pg.Client(db.config());
  await c.connect();
  try {
    const r = await c.query(sql);
    const last = Array.isArray(r) ? r[r.length - 1] : r;
    return Object.values(last?.rows[0] ?? {})[0];
  } finally {
    await c.end();
  }
}

describe('holding and releasing steps', () => {
  it.each([
    ['A then B', ['A', 'B'], 'AB'],
    ['B then A', ['B', 'A'], 'BA'],
  ])('two clients’ held steps run at the server in the order released: %s', async (_, order, log) => {
    await direct(`TRUNCATE counter; INSERT INTO counter VALUES (1, '')`);
    const [a, b] = await connect(2);
    proxy.gate = holdWhen(sqlHas('UPDATE counter'));
    const update = 'UPDATE counter SET log = log || $1 WHERE id = 1';
    const pending = [a!.query(update, ['A']), b!.query(update, ['B'])];
    const held = await heldSteps(2);
    // Held steps are visible with their connection and backend pid, and nothing reached the server.
    expect(held.map((s) => s.backendPid).sort()).toEqual([pidOf(a!), pidOf(b!)].sort());
    expect(new Set(held.map((s) => s.connectionId)).size).toBe(2);
    expect(held.every((s) => s.state === 'held')).toBe(true);
    expect(await direct('SELECT log FROM counter')).toBe('');
    const who = (s: Step) => (s.statements[0]?.params?.[0] as { value: string } | undefined)?.value;
    for (const name of order!) {
      const step = held.find((s) => who(s) === name)!;
      const idle = proxy.waitFor('idle', (c) => c.id === step.connectionId, AbortSignal.timeout(20_000));
      proxy.release(step);
      expect(step.state).toBe('running');
      await done(step);
      // The connection is idle again once its step's ReadyForQuery is in (reported after step-done).
      expect(await idle).toMatchObject({ backendPid: step.backendPid, txStatus: 'I' });
      expect(step.results).toMatchObject([{ kind: 'command', tag: 'UPDATE 1' }]);
    }
    await Promise.all(pending);
    expect(await direct('SELECT log FROM counter')).toBe(log);
  });

  it('a released step waiting for a row lock is seen as blocked by the lock holder, and then completes', async () => {
    await direct(`TRUNCATE accounts; INSERT INTO accounts VALUES (1, 100)`);
    const [a, b] = await connect(2);
    await a!.query('BEGIN');
    await a!.query('SELECT * FROM accounts WHERE id = 1 FOR UPDATE');
    proxy.gate = holdWhen(sqlHas('UPDATE accounts'));
    const update = b!.query('UPDATE accounts SET balance = balance - 10 WHERE id = 1');
    const [step] = await heldSteps(1);
    const [pidA, pidB] = [pidOf(a!), pidOf(b!)];
    expect(await probe.isBlocked(pidB, [pidA, pidB])).toBe(false); // held at the proxy: not at the server yet
    proxy.release(step!);
    let state = await probe.check([pidB], [pidA, pidB]);
    for (let i = 0; i < 200 && !state.get(pidB)?.blocked; i++)
      state = await probe.check([pidB], [pidA, pidB]);
    expect(state.get(pidB)).toMatchObject({ blocked: true, blockedBy: [pidA], waitEventType: 'Lock' });
    expect(proxy.running()).toContain(step);
    // Waiting on a session outside the set under test does not count (isolationtester's rule).
    expect(await probe.isBlocked(pidB, [pidB])).toBe(false);
    expect((await probe.check([pidA])).get(pidA)).toMatchObject({ blocked: false, blockedBy: [] });
    await a!.query('COMMIT');
    await done(step!);
    await update;
    expect(step!.results).toMatchObject([{ tag: 'UPDATE 1' }]);
  });

  it('check-then-act over pool.query per statement: the race happens in one order and not in the other', async () => {
    // A request as the `jobs` target's buggy variant makes it: read the state, then act, each on
    // whichever pool connection is free.
    const pool = new pg.Pool({ ...db.config('scram', proxy.address.port), max: 4 });
    pool.on('error', () => {});
    const complete = async (who: string) => {
      const { rows } = await pool.query('SELECT state, $1::text AS who FROM jobs WHERE id = 1', [who]);
      if (rows[0].state !== 'in_progress') return 409;
      await pool.query(`UPDATE jobs SET state = 'done' WHERE id = 1 AND $1::text IS NOT NULL`, [who]);
      await pool.query('INSERT INTO completions VALUES (1, $1)', [who]);
      return 200;
    };
    const whoOf = (s: Step) => (s.statements[0]?.params?.at(-1) as { value: string } | undefined)?.value;
    const isRequest = (s: Readonly<Step>) => /jobs|completions/.test(s.statements[0]?.text ?? '');
    /**
     * Run both requests, releasing one step at a time, each time the system is quiet (every unfinished
     * request has a step held), in the order `schedule` picks among the held steps.
     */
    const run = async (schedule: (held: Step[]) => Step) => {
      await direct(`TRUNCATE jobs, completions; INSERT INTO jobs VALUES (1, 'in_progress')`);
      proxy.gate = holdWhen(isRequest);
      const finished = new Set<string>();
      const requests = ['A', 'B'].map((who) => complete(who).finally(() => finished.add(who)));
      while (finished.size < 2) {
        const held = proxy.held().filter(isRequest);
        const waiting = new Set(held.map(whoOf));
        if (!['A', 'B'].every((who) => finished.has(who) || waiting.has(who))) {
          // A request between two steps: wait for its next step, or for it to finish.
          const stop = new AbortController();
          const unfinished = requests.filter((_, i) => !finished.has(['A', 'B'][i]!));
          await Promise.race([
            proxy.waitFor('step-held', undefined, stop.signal).catch(() => {}),
            ...unfinished,
          ]);
          stop.abort();
          continue;
        }
        const next = schedule(held);
        proxy.release(next);
        await done(next);
      }
      proxy.gate = passThrough;
      return {
        statuses: await Promise.all(requests),
        completions: Number(await direct('SELECT count(*) FROM completions')),
      };
    };
    // Both reads first (A1 B1 A2 B2 …): both see in_progress, both complete.
    const interleaved = await run((held) => held.sort((x, y) => x.id - y.id)[0]!);
    expect(interleaved.statuses).toEqual([200, 200]);
    expect(interleaved.completions).toBe(2);
    // A runs to the end before B starts: B sees done and answers 409.
    const serial = await run((held) => held.find((s) => whoOf(s) === 'A') ?? held[0]!);
    expect(serial.statuses).toEqual([200, 409]);
    expect(serial.completions).toBe(1);
    await pool.end();
  });

  it('deadlock and serialization failure are recorded with their SQLSTATE', async () => {
    await direct(`TRUNCATE accounts; INSERT INTO accounts VALUES (1, 100), (2, 100)`);
    const [a, b] = await connect(2);
    await a!.query('BEGIN');
    await b!.query('BEGIN');
    await a!.query('UPDATE accounts SET balance = 1 WHERE id = 1');
    await b!.query('UPDATE accounts SET balance = 2 WHERE id = 2');
    proxy.gate = holdWhen(sqlHas('UPDATE accounts'));
    const second = [
      a!.query('UPDATE accounts SET balance = 1 WHERE id = 2').catch((e: { code: string }) => e.code),
      b!.query('UPDATE accounts SET balance = 2 WHERE id = 1').catch((e: { code: string }) => e.code),
    ];
    const [sa, sb] = await heldSteps(2);
    proxy.release(sa!);
    while (!(await probe.isBlocked(sa!.backendPid!, [pidOf(a!), pidOf(b!)])));
    proxy.release(sb!);
    await Promise.all([done(sa!), done(sb!)]);
    const codes = await Promise.all(second);
    expect(codes.filter((c) => c === '40P01')).toHaveLength(1);
    expect([sa!, sb!].map((s) => s.error?.sqlstate).filter(Boolean)).toEqual(['40P01']);
    expect([sa!, sb!].find((s) => s.error)?.txAfter).toBe('E');
    proxy.gate = passThrough;
    await a!.query('ROLLBACK');
    await b!.query('ROLLBACK');

    // Two serializable transactions that each read what the other writes: one fails with 40001.
    const steps: Step[] = [];
    const onDone = (s: Step) => steps.push(s);
    proxy.on('step-done', onDone);
    for (const c of [a!, b!]) await c.query('BEGIN ISOLATION LEVEL SERIALIZABLE');
    await a!.query('SELECT sum(balance) FROM accounts');
    await b!.query('SELECT sum(balance) FROM accounts');
    await a!.query('UPDATE accounts SET balance = balance + 1 WHERE id = 1');
    await b!.query('UPDATE accounts SET balance = balance + 1 WHERE id = 2');
    const commits = [a!, b!].map((c) => c.query('COMMIT').catch((e: { code: string }) => e.code));
    await Promise.all(commits);
    proxy.off('step-done', onDone);
    expect(steps.map((s) => s.error?.sqlstate).filter(Boolean)).toEqual(['40001']);
  });

  it('a held step whose backend is terminated is dropped; a running one is aborted', async () => {
    const [a, b] = await connect(2);
    proxy.gate = holdWhen(sqlHas('pg_sleep'));
    const lost: Step[] = [];
    const onLost = (s: Step) => lost.push(s);
    proxy.on('step-lost', onLost);
    const heldQuery = a!.query('SELECT pg_sleep(0.01)').catch((e: Error) => e);
    const runningQuery = b!.query('SELECT pg_sleep(30)').catch((e: Error) => e);
    const [heldStep, runningStep] = await heldSteps(2);
    proxy.release(runningStep!);
    await direct(
      `SELECT pg_terminate_backend(${heldStep!.backendPid}), pg_terminate_backend(${runningStep!.backendPid})`,
    );
    await Promise.all([heldQuery, runningQuery]);
    await new Promise((r) => setTimeout(r, 100));
    proxy.off('step-lost', onLost);
    expect(heldStep!.state).toBe('dropped');
    expect(runningStep!.state).toBe('aborted');
    expect(lost.sort((x, y) => x.id - y.id)).toEqual([heldStep, runningStep].sort((x, y) => x!.id - y!.id));
    expect(() => proxy.release(heldStep!)).toThrow(/is not held/);
  });
});

describe('holding answers (holdAnswers / deliverAnswers)', () => {
  it('a step is done at the proxy while its client still waits; deliverAnswers hands the answer over', async () => {
    const [a] = await connect(1);
    proxy.holdAnswers = true;
    proxy.gate = holdWhen(() => true);
    let answered = false;
    const q = a!.query('SELECT 41 + 1 AS n').then((r) => {
      answered = true;
      return r.rows[0];
    });
    const [step] = await heldSteps(1);
    const done = proxy.waitFor('step-done', (s) => s === step, AbortSignal.timeout(5000));
    proxy.release(step!);
    await done;
    await new Promise((r) => setTimeout(r, 50));
    expect(answered).toBe(false);
    expect(step!.results).toEqual([expect.objectContaining({ kind: 'command', tag: 'SELECT 1' })]);
    expect(proxy.deliverAnswers(step!.connectionId)).toBeGreaterThan(0);
    expect(await q).toEqual({ n: 42 });
  });
});
