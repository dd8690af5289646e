import cliProgress from 'cli-progress';
import type { SeedProgress } from './seed.js';

/**
 * A progress bar for large seeding on stderr, one bar per generated table; a no-op when stderr is not a
 * TTY (CI logs, pipes), so logs stay clean. Returns the callback and `stop()` to call once seeding ends.
 */
export function seedProgressBar(stream: NodeJS.WriteStream = process.stderr): {
  onProgress: SeedProgress;
  stop: () => void;
} {
  if (!stream.isTTY) return { onProgress: () => {}, stop: () => {} };
  let bar: cliProgress.SingleBar | undefined;
  let current = '';
  const stop = () => {
    bar?.stop();
    bar = undefined;
  };
  return {
    onProgress: ({ table, doneRows, totalRows }) => {
      if (table !== current) {
        stop();
        current = table;
        bar = new cliProgress.SingleBar(
          {
            stream,
            format: `  generating ${table} [{bar}] {percentage}% {value}/{total} rows {duration}s`,
            hideCursor: true,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(totalRows, 0);
      }
      bar?.update(doneRows);
    },
    stop,
  };
}
