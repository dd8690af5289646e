import {
  type ChildProcess,
  type SpawnOptions,
  type SpawnSyncOptions,
  type SpawnSyncReturns,
  spawn,
  spawnSync,
} from 'node:child_process';

/**
 * Every process whatbreaks starts — PostgreSQL and initdb, targets, dependencies, the watchdog, the
 * `docker` and `id` commands it runs — starts here, in a session (and so a process group) of its own:
 *
 * ```
 *   terminal ── Ctrl-C ──► foreground process group: whatbreaks (and whatever shares its group)
 *                          session 2: postgres (postmaster; its backends make sessions of their own)
 *                          session 3: sh -c 'node server.js' → node          (a target, its whole tree)
 *                          session 4: node -e <watchdog>
 * ```
 *
 * A terminal sends SIGINT (Ctrl-C), SIGQUIT and SIGTSTP to its whole foreground process group, and
 * `timeout` signals the group it made. A child left in whatbreaks' group gets the signal at the same
 * moment as whatbreaks: PostgreSQL did a fast shutdown in the middle of a trial and the trial showed up
 * as failed. In a session of its own a child hears only what whatbreaks sends it, so whatbreaks can stop
 * after the current step and tear everything down in order (`teardown.ts`). Killing a child's whole tree
 * is then `process.kill(-pid)` (`killGroup`), and the watchdog (`watchdog.ts`) covers a SIGKILL of
 * whatbreaks itself.
 *
 * `src/env/own-session.test.ts` fails if any other file in `src/` imports `node:child_process`.
 */

/** `spawn` with `detached: true` (Node calls `setsid()` in the child before `exec`). */
export function spawnInOwnSession(
  file: string,
  args: readonly string[],
  options: SpawnOptions = {},
): ChildProcess {
  return spawn(file, args, { ...options, detached: true });
}

/** What a short command printed, and how it ended. */
export interface CommandResult {
  /** Exit code, `null` when a signal ended it or it could not start. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Set when the command could not be started (e.g. `ENOENT`). */
  error?: Error;
}

/**
 * Run a short command in its own session and collect its output (utf8). Never rejects: a command that
 * cannot start resolves with `error` set.
 */
export function runInOwnSession(
  file: string,
  args: readonly string[],
  options: Omit<SpawnOptions, 'stdio' | 'detached'> = {},
): Promise<CommandResult> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let error: Error | undefined;
    const child = spawnInOwnSession(file, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (c: Buffer) => {
      stdout += c.toString('utf8');
    });
    child.stderr?.on('data', (c: Buffer) => {
      stderr += c.toString('utf8');
    });
    child.once('error', (err) => {
      error = err;
    });
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr, error }));
  });
}

/**
 * `spawnSync` in its own session, output as utf8, for the last resorts that run while the process exits
 * (no event loop left). Node honours `detached` in `spawnSync` as in `spawn` (`setsid()` in the child), though its
 * documentation and types name it only for `spawn`; `own-session.test.ts` checks that it still does.
 */
export function runSyncInOwnSession(
  file: string,
  args: readonly string[],
  options: Omit<SpawnSyncOptions, 'encoding' | 'detached'> = {},
): SpawnSyncReturns<string> {
  const own = { ...options, encoding: 'utf8', detached: true } as SpawnSyncOptions & { encoding: 'utf8' };
  return spawnSync(file, args, own);
}
