import { z } from 'zod';
import { VERSION } from '../version.js';
import { scenarioSchema } from './schema.js';

/**
 * The scenario format as JSON Schema (draft-07, which editors' YAML support — `yaml-language-server`,
 * VS Code, JetBrains — reads), generated from the zod schema in `schema.ts` and the config schema of each
 * load, invariant and fault type: one source of truth. Descriptions, examples and defaults come from the
 * schemas' `.meta()`; a rule zod checks in a refinement is given to JSON Schema through
 * `.meta({ jsonSchema: {...} })` on the same schema (e.g. `anyOf` of required fields), so an editor and
 * `whatbreaks validate` agree. Two cross-field rules have no JSON Schema form and are checked only by
 * `validate` and `run` (`ZOD_ONLY_RULES`).
 *
 * Published as `schema/scenario.schema.json` (in the npm package); `whatbreaks schema` prints it.
 */
export const SCENARIO_SCHEMA_ID = 'https://whatbreaks.dev/schema/scenario.schema.json';

/** Rules zod checks that the JSON Schema cannot express (a comparison between two fields). */
export const ZOD_ONLY_RULES = [
  'load.maxConnections must be ≥ load.preAllocatedConnections (constant-arrival-rate)',
  'toxic slicer: attributes.size_variation must be less than attributes.average_size',
] as const;

/** Meta keys that only the docs generator reads; the published schema leaves them out. */
const DOCS_ONLY_KEYS = ['yaml', 'unit'] as const;

export interface JsonSchemaOptions {
  /** Keep the docs-only keys (`yaml` example blocks, `unit`) for `docs/scenarios.md`. */
  forDocs?: boolean;
}

type Json = Record<string, unknown>;

/** The scenario format's JSON Schema, as a plain object. */
export function scenarioJsonSchema(options: JsonSchemaOptions = {}): Json {
  const schema = z.toJSONSchema(scenarioSchema, {
    target: 'draft-07',
    io: 'input',
    unrepresentable: 'any',
    override: (ctx) => {
      const js = ctx.jsonSchema as Json;
      const def = (ctx.zodSchema as unknown as { _zod: { def: Json } })._zod.def;
      // A default on a transformed field (a duration) is dropped by zod for io: 'input'; it is valid input.
      if ((def.type === 'default' || def.type === 'prefault') && js.default === undefined) {
        const value = def.defaultValue;
        js.default = typeof value === 'function' ? (value as () => unknown)() : value;
      }
      // `startsWith` becomes a pattern and a non-standard format; editors and ajv know only the pattern.
      if (js.format === 'starts_with') delete js.format;
      // `z.url({ protocol: /^https?$/ })`: the format `uri` would accept any scheme.
      if (js.format === 'uri') {
        delete js.format;
        js.pattern = String.raw`^https?://\S+$`;
      }
      const rule = js.jsonSchema as Json | undefined;
      if (rule) {
        delete js.jsonSchema;
        Object.assign(js, rule);
      }
      if (!options.forDocs) for (const k of DOCS_ONLY_KEYS) delete js[k];
    },
  }) as Json;
  return {
    $schema: schema.$schema,
    $id: SCENARIO_SCHEMA_ID,
    title: 'whatbreaks scenario',
    description: `A whatbreaks scenario file (whatbreaks ${VERSION}). Reference: docs/scenarios.md.`,
    ...Object.fromEntries(Object.entries(schema).filter(([k]) => k !== '$schema')),
  };
}

/** The published file's text (`schema/scenario.schema.json`). */
export function scenarioJsonSchemaText(): string {
  return `${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`;
}
