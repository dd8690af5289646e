import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import getPort from 'get-port';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { PostgresServer } from './postgres-server.js';

const SERVER_JS = pathToFileURL(
  fileURLToPath(new URL('../../dist/src/env/postgres-server.js', import.meta.url)),
).href;

const FLAGS = ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'fsync=off'];

/** Process group and session of `pid` (`/proc/<pid>/stat`). */
function groupOf(pid: number): { pgid: number; sid: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { pgid: Number(rest[2]), sid: Number(rest[3]) };
}

/** Processes whose command line names `dir` (initdb, postgres). */
function using(dir: string): string[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .flatMap((p) => {
      try {
        const cmd = readFileSync(`/proc/${p}/cmdline`, 'latin1');
        return cmd.includes(dir) ? [`${p} ${cmd.replaceAll('\0', ' ')}`] : [];
      } catch {
        return [];
      }
    });
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function selectOne(port: number): Promise<number> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'wb', password: 'pw', database: 'app' });
  await client.connect();
  try {
    return (await client.query('SELECT 1 AS one')).rows[0].one;
  } finally {
    await client.end();
  }
}

const dirs: string[] = [];
function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'whatbreaks-pgserver-test-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('PostgresServer', () => {
  it('runs the postmaster in a session of its own, serves queries, and stops', async () => {
    const dir = freshDir();
    const port = await getPort({ host: '127.0.0.1' });
    const server = new PostgresServer({ dir, port, user: 'wb', password: 'pw', flags: FLAGS });
    try {
      await server.initialise();
      await server.start();
      await server.createDatabase('app');
      const pid = server.pid!;
      const { pgid, sid } = groupOf(pid);
      expect([pgid, sid]).toEqual([pid, pid]);
      expect(pgid).not.toBe(groupOf(process.pid).pgid);
      expect(await selectOne(port)).toBe(1);
    } finally {
      await server.stop();
    }
    expect(server.pid).toBeUndefined();
    expect(using(dir)).toEqual([]);
  });

  it('a SIGINT to the whole process group that started it (Ctrl-C) does not reach PostgreSQL', async () => {
    const dir = freshDir();
    const port = await getPort({ host: '127.0.0.1' });
    // A process in a group of its own starts the server and ignores SIGINT, as whatbreaks handles it.
    const script = `
      import { PostgresServer } from ${JSON.stringify(SERVER_JS)};
      const server = new PostgresServer(${JSON.stringify({ dir, port, user: 'wb', password: 'pw', flags: FLAGS })});
      process.on('SIGINT', () => console.log('SIGINT'));
      process.on('SIGTERM', async () => { await server.stop(); process.exit(0); });
      await server.initialise();
      await server.start();
      await server.createDatabase('app');
      console.log('ready ' + server.pid);
      setInterval(() => {}, 1000);`;
    const starter = spawn(process.execPath, ['--input-type=module', '-e', script], {
      detached: true,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    starter.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    const exited = new Promise((resolve) => starter.once('exit', resolve));
    try {
      const deadline = Date.now() + 60_000;
      while (!/ready \d+/.test(out) && Date.now() < deadline) await sleep(50);
      const postmaster = Number(/ready (\d+)/.exec(out)?.[1]);
      expect(postmaster).toBeGreaterThan(0);
      process.kill(-starter.pid!, 'SIGINT');
      while (!out.includes('SIGINT')) await sleep(20);
      // A fast shutdown takes a few ms; give it far more than that.
      await sleep(1_000);
      expect(running(postmaster)).toBe(true);
      expect(await selectOne(port)).toBe(1);
    } finally {
      starter.kill('SIGTERM');
      await exited;
    }
    expect(using(dir)).toEqual([]);
  });

  it('stop() during initdb kills it and its children; nothing starts afterwards', async () => {
    const dir = freshDir();
    const port = await getPort({ host: '127.0.0.1' });
    const server = new PostgresServer({ dir, port, user: 'wb', password: 'pw', flags: FLAGS });
    const initialising = server.initialise();
    const failed = initialising.then(
      () => 'finished',
      (err: Error) => err.message,
    );
    const deadline = Date.now() + 30_000;
    while (using(dir).length === 0 && Date.now() < deadline) await sleep(10);
    expect(using(dir).length).toBeGreaterThan(0);
    await server.stop();
    expect(using(dir)).toEqual([]);
    expect(await failed).toMatch(/initdb failed \(signal SIGKILL; stopped by whatbreaks\)/);
    await expect(server.start()).rejects.toThrow(/not started: the server is being stopped/);
    expect(using(dir)).toEqual([]);
  });
});
