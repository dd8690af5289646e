import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { WhatbreaksError } from '../errors.js';

/**
 * `--out DIR` must not silently overwrite an earlier run: a folder that holds one of `reportFiles`
 * (`report.json` for `run`; `verify.json` or a side's report for `verify`) is refused unless `--force`.
 * @throws WhatbreaksError `USAGE` naming the file found, with the way out in the hint.
 */
export function refuseEarlierReport(
  outDir: string | undefined,
  force: boolean | undefined,
  reportFiles: readonly string[],
): void {
  if (outDir === undefined || force) return;
  const found = reportFiles.find((f) => existsSync(join(resolve(outDir), f)));
  if (found === undefined) return;
  throw new WhatbreaksError(
    'USAGE',
    `--out ${outDir} already holds a report (${found}); this run would overwrite it`,
    'give a new folder, or add --force to overwrite it',
  );
}
