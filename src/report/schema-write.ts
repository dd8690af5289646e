import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageRoot } from '../package-root.js';
import { reportJsonSchema } from './schema.js';

/**
 * Regenerates the published `src/report/report.schema.json` from the zod schema in `schema.ts`:
 * `npm run build && node dist/src/report/schema-write.js`. `schema.test.ts` fails while the file is
 * out of date.
 */
export const REPORT_SCHEMA_FILE = join(
  packageRoot(import.meta.dirname),
  'src',
  'report',
  'report.schema.json',
);

export function reportSchemaText(): string {
  return `${JSON.stringify(reportJsonSchema(), null, 2)}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(REPORT_SCHEMA_FILE, reportSchemaText());
  process.stdout.write(`wrote ${REPORT_SCHEMA_FILE}\n`);
}
