import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { CLI, processesWithMark, ROOT } from './helpers.js';

/**
 * Kill whatbreaks at random moments of a run — while PostgreSQL initialises, while the target starts,
 * in the middle of a burst — with SIGINT, SIGTERM and SIGKILL, and check that nothing of the run is left:
 * no process (found by an environment mark every child inherits), no listening port it printed, no
 * PostgreSQL data folder. SIGINT/SIGTERM are handled by the run's teardown; SIGKILL runs no code of ours
 * and is covered by the watchdog (`src/env/watchdog.ts`).
 */
const KILLS = 20;
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGKILL'];

/** A seeded sequence of delays, so a failure can be replayed (mulberry32). */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** PostgreSQL data folders of the whatbreaks process `pid` (their names carry it). */
function dataDirsOf(pid: number | undefined): string[] {
  return readdirSync(tmpdir()).filter((d) => d.startsWith(`whatbreaks-pg-${pid}-`));
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function until(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check() && Date.now() < deadline) await sleep(100);
}

describe('killing whatbreaks leaves nothing behind', () => {
  it(`${KILLS} kills at random moments (SIGINT, SIGTERM, SIGKILL mixed)`, async () => {
    const rand = random(0x5eed);
    const problems: string[] = [];
    for (let k = 0; k < KILLS; k++) {
      const signal = SIGNALS[k % SIGNALS.length]!;
      const delayMs = Math.round(300 + rand() * 5_000);
      const mark = `WHATBREAKS_TEST_MARK=${randomUUID()}`;
      // A folder of its own: --out refuses one that holds an earlier run's report (exit 2).
      const out = join(tmpdir(), `whatbreaks-kill-${mark.split('=')[1]}`);
      const child = spawn(
        process.execPath,
        [CLI, 'run', 'scenarios/single-completion.yaml', '--env', 'local', '--trials', '10000', '--out', out],
        {
          cwd: ROOT,
          env: { ...process.env, NO_COLOR: '1', WHATBREAKS_TEST_MARK: mark.split('=')[1] },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let output = '';
      child.stdout.on('data', (d) => (output += d));
      child.stderr.on('data', (d) => (output += d));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      await sleep(delayMs);
      child.kill(signal);
      const code = await exited;
      // SIGINT/SIGTERM: the CLI has torn down before exiting. SIGKILL: give the watchdog its moment.
      await until(() => processesWithMark(mark).length === 0 && dataDirsOf(child.pid).length === 0, 10_000);
      const left = processesWithMark(mark);
      const dirs = dataDirsOf(child.pid);
      const ports = [...output.matchAll(/(?:127\.0\.0\.1:|port )(\d{4,5})/g)].map((m) => Number(m[1]));
      const open: number[] = [];
      for (const p of ports) if (await listening(p)) open.push(p);
      const what = `kill ${k + 1}: ${signal} after ${delayMs} ms (exit ${code})`;
      if (signal === 'SIGINT' && code !== 130 && code !== null) problems.push(`${what}: expected exit 130`);
      if (signal === 'SIGTERM' && code !== 143 && code !== null) problems.push(`${what}: expected exit 143`);
      if (left.length) problems.push(`${what}: processes left: ${left.join('; ')}`);
      if (dirs.length) problems.push(`${what}: data folders left: ${dirs.join(', ')}`);
      if (open.length) problems.push(`${what}: ports still listening: ${open.join(', ')}`);
      rmSync(out, { recursive: true, force: true });
    }
    expect(problems).toEqual([]);
  }, 600_000);
});
