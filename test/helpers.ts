import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const ROOT = join(import.meta.dirname, '..');
export const CLI = join(ROOT, 'bin', 'whatbreaks.js');

/**
 * Run the real CLI; returns exit code, output and its pid (whose PostgreSQL data folders are named for
 * it: `pgDataDirsOf(pid)`).
 */
export function cli(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string> } = {},
): { code: number; stdout: string; stderr: string; pid: number } {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: opts.cwd ?? ROOT,
    encoding: 'utf8',
    // The CLI picks docker when an engine answers (`--env auto`); these tests are about the local default.
    env: { WHATBREAKS_ENV: 'local', ...process.env, NO_COLOR: '1', ...opts.env },
    timeout: 300_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, pid: r.pid };
}

/**
 * A fresh mark for what this test starts: sets `WHATBREAKS_TEST_MARK=<uuid>` in this process's
 * environment, which every process a run starts from here inherits (PostgreSQL, targets, dependencies,
 * the CLI and its children), and returns it as `NAME=value` for `processesWithMark` / `leftovers`.
 * Call it in `beforeEach` (or once per file): other runs on the machine never carry it.
 */
export function markTest(): string {
  const value = randomUUID();
  process.env.WHATBREAKS_TEST_MARK = value;
  return `WHATBREAKS_TEST_MARK=${value}`;
}

/**
 * Temp data folders of the embedded PostgreSQL servers started by the whatbreaks process `pid` (their
 * names carry it: `whatbreaks-pg-<pid>-…`); default this process (runs made through the API in a test).
 */
export function pgDataDirsOf(pid: number = process.pid): string[] {
  return readdirSync(tmpdir()).filter((d) => d.startsWith(`whatbreaks-pg-${pid}-`));
}

/**
 * What a run could leave behind, scoped to this test's own run: processes carrying `mark` (see
 * `markTest`) and the PostgreSQL data folders of the whatbreaks process `pid` (this process by default;
 * the CLI's pid, from `cli()`, for a CLI run). Waits up to `graceMs` for them to go (a process exits a
 * moment after it is told to), then returns what is still there: `{ processes: [], dirs: [] }` when
 * nothing was left.
 */
export async function leftovers(
  mark: string,
  pid: number = process.pid,
  graceMs = 5_000,
): Promise<{ processes: string[]; dirs: string[] }> {
  const deadline = Date.now() + graceMs;
  for (;;) {
    const left = { processes: processesWithMark(mark), dirs: pgDataDirsOf(pid) };
    if ((left.processes.length === 0 && left.dirs.length === 0) || Date.now() >= deadline) return left;
    await sleep(100);
  }
}

/**
 * Processes whose environment contains `mark` (e.g. `WHATBREAKS_TEST_MARK=<uuid>`): everything a run
 * started inherits its environment, so this finds a run's PostgreSQL, targets and dependencies without
 * confusing them with other runs on the machine.
 */
export function processesWithMark(mark: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d) && Number(d) !== process.pid)) {
    try {
      if (readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(mark)) {
        found.push(`${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0/g, ' ').trim()}`);
      }
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}
