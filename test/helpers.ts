import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..');
export const CLI = join(ROOT, 'bin', 'whatbreaks.js');

/** Run the real CLI; returns exit code and output. */
export function cli(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string> } = {},
): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: opts.cwd ?? ROOT,
    encoding: 'utf8',
    // The CLI picks docker when an engine answers (`--env auto`); these tests are about the local default.
    env: { WHATBREAKS_ENV: 'local', ...process.env, NO_COLOR: '1', ...opts.env },
    timeout: 300_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** PIDs of processes whose command line matches `pattern` (pgrep -f), excluding pgrep itself. */
export function pids(pattern: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', pattern], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** Temp data folders of embedded PostgreSQL servers started by whatbreaks. */
export function pgDataDirs(): string[] {
  return readdirSync(tmpdir()).filter((d) => d.startsWith('whatbreaks-pg-'));
}

/** What a run could leave behind: PostgreSQL servers, example targets, temp data folders. */
export function leftovers() {
  return {
    postgres: pids('whatbreaks-pg-'),
    targets: pids('dist/targets/'),
    dirs: pgDataDirs(),
  };
}

/** Things in `after` that were not in `before`. */
export function added(before: ReturnType<typeof leftovers>, after: ReturnType<typeof leftovers>) {
  return {
    postgres: after.postgres.filter((p) => !before.postgres.includes(p)),
    targets: after.targets.filter((p) => !before.targets.includes(p)),
    dirs: after.dirs.filter((d) => !before.dirs.includes(d)),
  };
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
