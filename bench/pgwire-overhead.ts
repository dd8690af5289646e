/**
 * PostgreSQL protocol proxy overhead: per-query latency through the protocol proxy in pass-through
 * (`src/pgwire/proxy.ts`, default gate) against the TCP fault proxy (`src/faults/proxy.ts`, no toxic) and
 * against a direct connection, and through the chain `database.proxy: { protocol: postgres }` runs
 * (protocol proxy → TCP proxy → PostgreSQL). Acceptance: the protocol proxy's p50 within 2× of the TCP
 * proxy's, per client and query.
 *
 * Setup: an embedded PostgreSQL (its own processes); the proxies in this process, as in a whatbreaks run.
 * Clients: node-postgres in this process (extended protocol: Parse/Bind/Describe/Execute/Sync per
 * query, or a simple Query without parameters) and psycopg2 in a Python process (libpq, simple Query),
 * one connection per target and client. Each client sends one query at a time (closed loop), so latency
 * is what one statement of a request pays. Targets take turns in short rounds, in rotating order, so
 * noise from other processes spreads over all of them. Latency in µs, from just before the query call to
 * its result (client side); p50/p99 from hdr-histogram-js (node) or a sort (psycopg2), over all rounds.
 *
 *   npx tsc -p bench/tsconfig.json
 *   node dist/bench/pgwire-overhead.js [--rounds 20 --per-round 200 --psycopg2 1]
 *
 * Prints a Markdown table with ratios to the TCP proxy and to direct.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import getPort from 'get-port';
import * as hdr from 'hdr-histogram-js';
import pg from 'pg';
import { PostgresServer } from '../src/env/postgres-server.js';
import { startProxy } from '../src/faults/proxy.js';
import { startPgProxy } from '../src/pgwire/proxy.js';

interface Options {
  rounds: number;
  /** Queries of each kind per target per round. */
  perRound: number;
  /** 1 to measure psycopg2 too (needs /usr/bin/python3 with psycopg2), 0 not to. */
  psycopg2: number;
}

const TARGETS = ['direct', 'tcp proxy', 'protocol proxy', 'protocol → tcp'] as const;
type Target = (typeof TARGETS)[number];

const NODE_QUERIES: Record<string, pg.QueryConfig> = {
  'extended SELECT $1': { text: 'SELECT $1::int AS n', values: [1] },
  'simple SELECT 1': { text: 'SELECT 1 AS n' },
  'extended 1,000 rows': { text: 'SELECT g, $1::text AS t FROM generate_series(1, 1000) g', values: ['row'] },
};

function parseArgs(argv: string[]): Options {
  const o: Options = { rounds: 20, perRound: 200, psycopg2: 1 };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i]?.replace(/^--/, '').replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
    const value = Number(argv[i + 1]);
    if (!key || !(key in o) || !Number.isFinite(value)) throw new Error(`unknown or bad option: ${argv[i]}`);
    o[key as keyof Options] = value;
  }
  return o;
}

async function startPostgres() {
  const dir = mkdtempSync(join(tmpdir(), 'whatbreaks-pgwire-bench-'));
  const port = await getPort({ host: '127.0.0.1' });
  const password = randomBytes(12).toString('hex');
  const server = new PostgresServer({
    dir,
    port,
    user: 'bench',
    password,
    authMethod: 'scram-sha-256',
    flags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'fsync=off'],
  });
  await server.initialise();
  await server.start();
  return {
    port,
    password,
    stop: async () => {
      await server.stop().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const histogram = () =>
  hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  });

async function measureNode(ports: Record<Target, number>, password: string, o: Options) {
  const clients = new Map<Target, pg.Client>();
  for (const t of TARGETS) {
    const c = new pg.Client({
      host: '127.0.0.1',
      port: ports[t],
      user: 'bench',
      password,
      database: 'postgres',
    });
    await c.connect();
    clients.set(t, c);
  }
  const result = new Map<string, hdr.Histogram>();
  for (let round = -1; round < o.rounds; round++) {
    // Round −1 warms up every path (JIT, connection buffers) and is not recorded.
    const order = TARGETS.map((_, i) => TARGETS[(i + Math.max(round, 0)) % TARGETS.length]!);
    for (const t of order) {
      const c = clients.get(t)!;
      for (const [kind, q] of Object.entries(NODE_QUERIES)) {
        const key = `${kind}|${t}`;
        if (!result.has(key)) result.set(key, histogram());
        const h = result.get(key)!;
        for (let i = 0; i < o.perRound; i++) {
          const t0 = performance.now();
          await c.query(q);
          if (round >= 0) h.recordValue(Math.max(1, Math.round((performance.now() - t0) * 1000)));
        }
      }
    }
  }
  for (const c of clients.values()) await c.end();
  const out: Row[] = [];
  for (const [key, h] of result) {
    const [kind, target] = key.split('|') as [string, Target];
    out.push({
      client: 'node-postgres',
      kind,
      target,
      p50: h.getValueAtPercentile(50),
      p99: h.getValueAtPercentile(99),
    });
  }
  return out;
}

const PY = `
import json, sys, time, psycopg2
ports, password, rounds, per = json.loads(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
names = list(ports)
conns = {n: psycopg2.connect(host='127.0.0.1', port=ports[n], user='bench', password=password, dbname='postgres', sslmode='disable') for n in names}
for c in conns.values(): c.autocommit = True
lat = {n: [] for n in names}
for r in range(-1, rounds):
    order = names[max(r, 0) % len(names):] + names[:max(r, 0) % len(names)]
    for n in order:
        cur = conns[n].cursor()
        for i in range(per):
            t0 = time.perf_counter_ns()
            cur.execute('SELECT 1')
            cur.fetchall()
            if r >= 0: lat[n].append((time.perf_counter_ns() - t0) // 1000)
print(json.dumps(lat))
`;

async function measurePsycopg2(ports: Record<Target, number>, password: string, o: Options): Promise<Row[]> {
  const child = spawn(
    '/usr/bin/python3',
    ['-c', PY, JSON.stringify(ports), password, String(o.rounds), String(o.perRound)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.on('data', (b: Buffer) => {
    out += b.toString();
  });
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  if (code !== 0) throw new Error(`psycopg2 bench exited with ${code}`);
  const lat = JSON.parse(out) as Record<Target, number[]>;
  return TARGETS.map((target) => {
    const v = [...lat[target]].sort((a, b) => a - b);
    const at = (p: number) => v[Math.min(v.length - 1, Math.floor((p / 100) * v.length))]!;
    return { client: 'psycopg2', kind: 'simple SELECT 1', target, p50: at(50), p99: at(99) };
  });
}

interface Row {
  client: string;
  kind: string;
  target: Target;
  /** µs. */
  p50: number;
  p99: number;
}

function table(rows: Row[], o: Options, loadBefore: number, loadAfter: number): string[] {
  const lines = [
    `pgwire-overhead: ${o.rounds} rounds × ${o.perRound} queries per kind and target, closed loop, one connection each; load average ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after`,
    '',
    '| client | query | target | p50 µs | p99 µs | p50 / tcp proxy | p50 / direct | p99 / tcp proxy |',
    '|---|---|---|---:|---:|---:|---:|---:|',
  ];
  const verdicts: string[] = [];
  const groups = new Map<string, Row[]>();
  for (const r of rows)
    groups.set(`${r.client}|${r.kind}`, [...(groups.get(`${r.client}|${r.kind}`) ?? []), r]);
  for (const group of groups.values()) {
    const by = (t: Target) => group.find((r) => r.target === t)!;
    const [direct, tcp, proto] = [by('direct'), by('tcp proxy'), by('protocol proxy')];
    for (const t of TARGETS) {
      const r = by(t);
      lines.push(
        `| ${r.client} | ${r.kind} | ${t} | ${r.p50} | ${r.p99} | ${(r.p50 / tcp.p50).toFixed(2)} | ${(r.p50 / direct.p50).toFixed(2)} | ${(r.p99 / tcp.p99).toFixed(2)} |`,
      );
    }
    const ratio = proto.p50 / tcp.p50;
    verdicts.push(`${proto.client} ${proto.kind}: ${ratio <= 2 ? 'PASS' : 'FAIL'} (${ratio.toFixed(2)}×)`);
  }
  lines.push('', `Acceptance, protocol proxy p50 ≤ 2× the TCP proxy's: ${verdicts.join('; ')}.`);
  return lines;
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const loadBefore = loadavg()[0]!;
  const db = await startPostgres();
  const upstream = { host: '127.0.0.1', port: db.port };
  const tcp = await startProxy({ name: 'bench-tcp', upstream });
  const proto = await startPgProxy({ name: 'bench-protocol', upstream });
  const chainTcp = await startProxy({ name: 'bench-chain-tcp', upstream });
  const chain = await startPgProxy({ name: 'bench-chain', upstream: chainTcp.address });
  const ports: Record<Target, number> = {
    direct: db.port,
    'tcp proxy': tcp.address.port,
    'protocol proxy': proto.address.port,
    'protocol → tcp': chain.address.port,
  };
  try {
    const rows = await measureNode(ports, db.password, o);
    if (o.psycopg2) rows.push(...(await measurePsycopg2(ports, db.password, o)));
    console.log(table(rows, o, loadBefore, loadavg()[0]!).join('\n'));
  } finally {
    for (const p of [chain, chainTcp, proto, tcp]) await p.stop();
    await db.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
