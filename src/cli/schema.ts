import type { Command } from 'commander';
import { scenarioJsonSchemaText } from '../scenario/json-schema.js';

/**
 * `whatbreaks schema`: print the scenario format's JSON Schema (the same text as the package's
 * `schema/scenario.schema.json`), e.g. `whatbreaks schema > scenario.schema.json` for an editor.
 */
export function registerSchema(program: Command): void {
  program
    .command('schema')
    .description("print the scenario file format's JSON Schema (for editors: yaml-language-server)")
    .action(() => {
      process.stdout.write(scenarioJsonSchemaText());
    });
}
