import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { spawnInOwnSession } from './own-session.js';

/**
 * The guarantee that survives `kill -9 whatbreaks`: a tiny watchdog process, started on first use in a
 * process group of its own, holding the read end of a pipe from whatbreaks. whatbreaks tells it, one line
 * at a time, which process groups and PostgreSQL data folders are alive. When the pipe closes while
 * something is still registered — whatbreaks died without tearing down — the watchdog SIGKILLs those
 * process groups and every process whose command line names a registered PostgreSQL data folder
 * (initdb, postgres), removes the folders and exits. On a normal exit nothing is registered any
 * more, and it exits quietly.
 *
 * The orderly paths (success, failure, SIGINT, SIGTERM) are `teardown.ts`'s; this one only covers the
 * death that runs no code of ours. Same idea as a parent-death signal (`PR_SET_PDEATHSIG`), which Node
 * does not expose, and it reaches grandchildren in other process groups too.
 */
const WATCHDOG_SOURCE = `
const { readdirSync, readFileSync, rmSync } = require('node:fs');
const groups = new Set(), dirs = new Set();
let buf = '';
process.on('SIGINT', () => {}); process.on('SIGTERM', () => {}); process.on('SIGHUP', () => {});
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => {
  buf += d;
  let i;
  while ((i = buf.indexOf('\\n')) >= 0) {
    const line = buf.slice(0, i); buf = buf.slice(i + 1);
    const op = line[0], kind = line[1], value = line.slice(3);
    const set = kind === 'g' ? groups : dirs;
    if (op === '+') set.add(value); else set.delete(value);
  }
});
const usersOf = (d) => readdirSync('/proc').filter((p) => /^\\d+$/.test(p)).filter((p) => {
  try { return readFileSync('/proc/' + p + '/cmdline', 'latin1').includes(d); } catch { return false; }
});
const sweep = () => {
  for (const g of groups) { try { process.kill(-Number(g), 'SIGKILL'); } catch {} }
  if (!dirs.size) process.exit(0);
  // initdb and postgres name the data folder on their command line; postgres' backends die with it.
  const kill = () => { for (const d of dirs) for (const p of usersOf(d)) { try { process.kill(Number(p), 'SIGKILL'); } catch {} } };
  const remove = () => { for (const d of dirs) { try { rmSync(d, { recursive: true, force: true }); } catch {} } };
  kill();
  setTimeout(() => { kill(); remove(); }, 300);
  setTimeout(() => { kill(); remove(); process.exit(0); }, 1500);
};
process.stdin.on('end', sweep);
process.stdin.on('error', sweep);
`;

let child: ChildProcess | undefined;

function send(line: string): void {
  if (!child) {
    child = spawnInOwnSession(process.execPath, ['-e', WATCHDOG_SOURCE], {
      stdio: ['pipe', 'ignore', 'ignore'],
      // It needs nothing from our environment, and must not look like part of the run it guards.
      env: {},
    });
    child.on('error', () => {
      child = undefined;
    });
    // Neither the watchdog nor its pipe may keep whatbreaks alive.
    child.unref();
    (child.stdin as unknown as { unref?: () => void }).unref?.();
    child.stdin?.on('error', () => undefined);
  }
  child.stdin?.write(`${line}\n`);
}

/** Kill process group `pgid` if whatbreaks dies without tearing it down. */
export function watchGroup(pgid: number | undefined): void {
  if (pgid) send(`+g ${pgid}`);
}

export function unwatchGroup(pgid: number | undefined): void {
  if (pgid && child) send(`-g ${pgid}`);
}

/** Stop the PostgreSQL running in `dir` and remove `dir` if whatbreaks dies without tearing it down. */
export function watchDataDir(dir: string): void {
  send(`+d ${dir}`);
}

export function unwatchDataDir(dir: string): void {
  if (child) send(`-d ${dir}`);
}

/** The watchdog's pid, for tests. */
export function watchdogPid(): number | undefined {
  return child?.pid;
}

/**
 * SIGKILL every process whose command line names `dir` (initdb and postgres take the data folder as an
 * argument). Synchronous, for teardown paths that cannot wait.
 */
export function killProcessesUsing(dir: string): void {
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid)) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes(dir)) process.kill(Number(pid), 'SIGKILL');
    } catch {
      // gone, or not ours
    }
  }
}
