import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { packageRoot } from '../package-root.js';
import { scenarioJsonSchemaText } from './json-schema.js';
import { scenarioReferenceMarkdown } from './reference-docs.js';

/**
 * Regenerates the scenario format's published reference from the zod schemas: `schema/scenario.schema.json`
 * and `docs/scenarios.md` (`npm run gen:schema`). `reference-write.test.ts` fails while either is stale.
 */
const ROOT = packageRoot(import.meta.dirname);
export const SCENARIO_SCHEMA_FILE = join(ROOT, 'schema', 'scenario.schema.json');
export const SCENARIO_DOCS_FILE = join(ROOT, 'docs', 'scenarios.md');

/** The repository's scenarios, parsed: their values are the reference's examples. */
function exampleScenarios(): unknown[] {
  const dir = join(ROOT, 'scenarios');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => parse(readFileSync(join(dir, f), 'utf8')) as unknown);
}

/** What each generated file must contain. */
export function referenceFiles(): { file: string; text: string }[] {
  return [
    { file: SCENARIO_SCHEMA_FILE, text: scenarioJsonSchemaText() },
    { file: SCENARIO_DOCS_FILE, text: scenarioReferenceMarkdown(exampleScenarios()) },
  ];
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const { file, text } of referenceFiles()) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
    process.stdout.write(`wrote ${file}\n`);
  }
}
