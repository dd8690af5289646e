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

/** Run every registered async cleanup, newest first; errors are reported, never thrown. */
export async function runCleanups(onError: (label: string, err: unknown) => void = () => {}): Promise<void> {
  const list = [...entries].reverse();
  entries.clear();
  for (const e of list) {
    try {
      await e.cleanup();
    } catch (err) {
      onError(e.label, err);
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

/**
 * Install SIGINT/SIGTERM/exit handlers once per process (the CLI does; library users may). On the first
 * signal: `onSignal` (e.g. abort the run so it writes what it measured) and wait for the promise it
 * returns, then the async cleanups — all bounded by `graceMs` — then exit with 128 + signal number. A
 * second signal skips straight to the last resorts. On exit: the last-resort actions.
 */
export function installSignalHandlers(
  opts: { graceMs?: number; onSignal?: (signal: NodeJS.Signals) => Promise<void> | void } = {},
): void {
  if (installed) return;
  installed = true;
  const graceMs = opts.graceMs ?? 15_000;
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    const code = signal === 'SIGINT' ? 130 : 143;
    if (stopping) {
      runLastResorts();
      process.exit(code);
    }
    stopping = true;
    setTimeout(() => {
      runLastResorts();
      process.exit(code);
    }, graceMs).unref();
    void (async () => {
      try {
        await opts.onSignal?.(signal);
      } finally {
        await runCleanups();
        process.exit(code);
      }
    })();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  process.on('exit', runLastResorts);
}
