import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageRoot } from '../package-root.js';
import { mutationJsonSchema } from './mutation-schema.js';

/**
 * Regenerates the published `src/mutate/mutation.schema.json` from the zod schema in
 * `mutation-schema.ts`: `npm run build && node dist/src/mutate/mutation-schema-write.js`.
 * `mutation-schema.test.ts` fails while the file is out of date.
 */
export const MUTATION_SCHEMA_FILE = join(
  packageRoot(import.meta.dirname),
  'src',
  'mutate',
  'mutation.schema.json',
);

export function mutationSchemaText(): string {
  return `${JSON.stringify(mutationJsonSchema(), null, 2)}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(MUTATION_SCHEMA_FILE, mutationSchemaText());
  process.stdout.write(`wrote ${MUTATION_SCHEMA_FILE}\n`);
}
