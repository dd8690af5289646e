import { installSignalHandlers } from '../env/teardown.js';

/**
 * Ctrl-C and SIGTERM for a command that runs trials: the first signal aborts the work (it stops after the
 * current `step` and writes its report), waits for it, then the teardown runs (`teardown.ts`).
 * `track(work)` names the promise to wait for. Every process whatbreaks starts is in a session of its own
 * (`env/own-session.ts`), so a Ctrl-C that a terminal sends to its whole foreground group reaches only us.
 */
export function interruptible(
  step: string,
  /** Prints a line on stderr (the CLI's printer, so a live status is cleared first). */
  say: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): { signal: AbortSignal; track<T>(work: Promise<T>): Promise<T> } {
  const controller = new AbortController();
  let finished: Promise<unknown> = Promise.resolve();
  installSignalHandlers({
    onSignal: (signal) => {
      say(`\n${signal}: stopping after the current ${step}, tearing down, writing the report…`);
      controller.abort();
      return finished.then(() => undefined);
    },
  });
  return {
    signal: controller.signal,
    track(work) {
      finished = work.catch(() => undefined);
      return work;
    },
  };
}
