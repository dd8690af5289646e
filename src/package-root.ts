import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The folder holding whatbreaks' package.json at or above `dir` (`import.meta.dirname`): the same answer
 * from `src/` under vitest and from `dist/src/`. The generated files (JSON Schemas, docs/scenarios.md)
 * are written relative to it. The filesystem root when there is no package.json above.
 */
export function packageRoot(dir: string): string {
  let d = dir;
  while (!existsSync(join(d, 'package.json')) && dirname(d) !== d) d = dirname(d);
  return d;
}
