import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { reportJsonSchema } from './schema.js';

/**
 * Regenerates the published `src/report/report.schema.json` from the zod schema in `schema.ts`:
 * `npm run build && node dist/src/report/schema-write.js`. `schema.test.ts` fails while the file is
 * out of date.
 */
export const REPORT_SCHEMA_FILE = join(
  projectRoot(import.meta.dirname),
  'src',
  'report',
  'report.schema.json',
);

/** The folder holding package.json above `dir` (works from src/ under vitest and from dist/). */
function projectRoot(dir: string): string {
  let d = dir;
  while (!existsSync(join(d, 'package.json')) && dirname(d) !== d) d = dirname(d);
  return d;
}

export function reportSchemaText(): string {
  return `${JSON.stringify(reportJsonSchema(), null, 2)}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(REPORT_SCHEMA_FILE, reportSchemaText());
  process.stdout.write(`wrote ${REPORT_SCHEMA_FILE}\n`);
}
