import { rmSync } from 'node:fs';

/**
 * Everything a run starts registers here how to take it down, so that success, failure, an exception,
 * SIGINT and SIGTERM all leave nothing behind.
 *
 * Two kinds of entries:
 * - `async` cleanups (stop PostgreSQL cleanly, stop a target, remove a container), run in reverse order
 *   of registration by `runCleanups()` — called by the owner on the normal path and by the signal
 *   handlers on Ctrl-C / SIGTERM;
 * - `last-resort` synchronous actions (SIGKILL a process group, remove a temp folder), run from the
 *   process `exit` event when the async path could not run (e.g. `process.exit()` after an uncaught
 *   exception). Each entry is removed once its owner has torn it down.
 */
interface Entry {
  label: string;
  cleanup: () => Promise<void>;
  lastResort?: () => void;
}

const entries = new Set<Entry>();

/** Register a teardown; returns `unregister` for the owner to call once it has torn down. */
export function registerCleanup(
  label: string,
  cleanup: () => Promise<void>,
  lastResort?: () => void,
): () => void {
  const entry: Entry = { label, cleanup, lastResort };
  entries.add(entry);
  return () => entries.delete(entry);
}

/**
 * Run every registered async cleanup, newest first; errors are reported, never thrown. An entry stays
 * registered until its cleanup has finished, so the last resorts still cover one cut short by a deadline
 * (a failed cleanup runs its last resort at once).
 */
export async function runCleanups(onError: (label: string, err: unknown) => void = () => {}): Promise<void> {
  for (const e of [...entries].reverse()) {
    if (!entries.has(e)) continue;
    try {
      await e.cleanup();
      entries.delete(e);
    } catch (err) {
      onError(e.label, err);
      entries.delete(e);
      e.lastResort?.();
    }
  }
}

/** Synchronous last resort, for the `exit` event: kill what is left, remove temp folders. */
export function runLastResorts(): void {
  for (const e of [...entries].reverse()) {
    try {
      e.lastResort?.();
    } catch {
      // Nothing more can be done while the process exits.
    }
  }
  entries.clear();
}

/** Number of things still registered (for tests and for a leak warning). */
export function pendingCleanups(): string[] {
  return [...entries].map((e) => e.label);
}

/** SIGKILL a whole process group, ignoring one that is already gone. */
export function killGroup(pid: number | undefined, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

export function removeDirSync(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

let installed = false;

/** A second signal within this long of the first is the same interruption delivered twice, ms. */
export const REPEAT_IS_ECHO_MS = 1_000;

/**
 * Install SIGINT/SIGTERM/exit handlers once per process (the CLI does; library users may). On the first
 * signal: `onSignal` (e.g. abort the run so it writes what it measured), waited for at most `graceMs`
 * (default 15,000 ms); then the async cleanups, waited for at most `cleanupMs` (default 30,000 ms: removing
 * containers on a slow storage driver takes seconds); then the last resorts for whatever is still
 * registered, and exit with 128 + signal number. A second signal skips straight to the last resorts — unless it
 * comes within `REPEAT_IS_ECHO_MS` of the first (the same Ctrl-C delivered twice, as `timeout` does).
 * On exit: the last-resort actions.
 */
export function installSignalHandlers(
  opts: {
    graceMs?: number;
    cleanupMs?: number;
    onSignal?: (signal: NodeJS.Signals) => Promise<void> | void;
  } = {},
): void {
  if (installed) return;
  installed = true;
  const graceMs = opts.graceMs ?? 15_000;
  const cleanupMs = opts.cleanupMs ?? 30_000;
  let stoppingSince: number | undefined;
  const within = (work: () => Promise<unknown> | unknown, ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      Promise.resolve()
        .then(work)
        .catch(() => undefined)
        .finally(() => {
          clearTimeout(timer);
          resolve();
        });
    });
  const handler = (signal: NodeJS.Signals) => {
    const code = signal === 'SIGINT' ? 130 : 143;
    if (stoppingSince !== undefined) {
      // One Ctrl-C can arrive twice: `timeout` signals its child and then its whole process group, and
      // a supervisor may forward what the terminal already sent. A repeat this soon is that echo, not a
      // person insisting: it must not cost the report.
      if (performance.now() - stoppingSince < REPEAT_IS_ECHO_MS) return;
      runLastResorts();
      process.exit(code);
    }
    stoppingSince = performance.now();
    void (async () => {
      await within(() => opts.onSignal?.(signal), graceMs);
      await within(
        () =>
          runCleanups((label, err) =>
            process.stderr.write(
              `whatbreaks: tearing down ${label} failed: ${(err as Error).message ?? err}\n`,
            ),
          ),
        cleanupMs,
      );
      runLastResorts();
      process.exit(code);
    })();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  process.on('exit', runLastResorts);
}
