import { parse } from 'yaml';
import { STUBS } from '../env/stubs.js';
import { TARGET_ENVIRONMENT_DOCS } from '../env/target-env.js';
import { scenarioJsonSchema, ZOD_ONLY_RULES } from './json-schema.js';
import { REFERENCE_INTRO, TARGET_NOTES } from './reference-text.js';

/**
 * `docs/scenarios.md`, generated from the scenario format's JSON Schema (itself generated from the zod
 * schemas and their `.meta()`): every field with its type, unit, default, an example and the load,
 * invariant or fault type it belongs to. Prose that is not about one field lives in `reference-text.ts`;
 * the target's environment and the stub services come from their own tables (`env/target-env.ts`,
 * `env/stubs.ts`). `npm run gen:schema` rewrites the file; a test fails while it is stale.
 */
type Json = Record<string, unknown>;

const code = (v: unknown) => `\`${typeof v === 'string' ? v : JSON.stringify(v)}\``;
const cell = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ');

function options(s: Json): Json[] | undefined {
  return (s.anyOf ?? s.oneOf) as Json[] | undefined;
}

/** `integer 1–32`, `duration`, `` `naive` \| `barrier` ``, `string or list of strings`, … */
function typeOf(s: Json): string {
  if (s.title === 'duration' || s.title === 'positive duration') {
    return s.title === 'duration' ? 'duration ≥ 0' : 'duration > 0';
  }
  if (s.const !== undefined) return code(s.const);
  if (Array.isArray(s.enum)) return (s.enum as unknown[]).map(code).join(' | ');
  const alts = options(s);
  if (alts && !s.type) return [...new Set(alts.map(typeOf))].join(' or ');
  const t = Array.isArray(s.type) ? (s.type as string[]).join(' or ') : (s.type as string | undefined);
  if (t === 'integer' || t === 'number') {
    const lo = s.minimum ?? (s.exclusiveMinimum !== undefined ? `>${s.exclusiveMinimum}` : undefined);
    const hi = s.maximum !== undefined && (s.maximum as number) < 2 ** 50 ? s.maximum : undefined;
    if (lo !== undefined && hi !== undefined) return `${t} ${lo}–${hi}`;
    if (lo !== undefined) return `${t} ${String(lo).startsWith('>') ? lo : `≥ ${lo}`}`;
    if (hi !== undefined) return `${t} ≤ ${hi}`;
    return t;
  }
  if (t === 'array') return `list of ${typeOf((s.items as Json) ?? {})}`;
  if (t === 'object') {
    if (s.properties) return 'mapping (below)';
    if (s.additionalProperties && typeof s.additionalProperties === 'object') {
      return `mapping of name → ${typeOf(s.additionalProperties as Json)}`;
    }
    return 'mapping';
  }
  return t ?? 'any';
}

function unitOf(name: string, s: Json): string {
  if (typeof s.unit === 'string') return s.unit;
  if (String(s.title ?? '').includes('duration')) return 'ms';
  if (/Ms$/.test(name)) return 'ms';
  if (/MiB$/.test(name)) return 'MiB';
  return '';
}

/** The value of `field` in the first object of `example` (parsed YAML) that has it. */
function findExample(example: unknown, field: string): unknown {
  if (example === null || typeof example !== 'object') return undefined;
  if (!Array.isArray(example) && field in example) return (example as Json)[field];
  for (const v of Object.values(example)) {
    const found = findExample(v, field);
    if (found !== undefined) return found;
  }
  return undefined;
}

function exampleOf(name: string, s: Json, sources: readonly unknown[]): string {
  const items = s.items as Json | undefined;
  if (s.properties || items?.properties || (s.anyOf && s.type === 'object')) return '(below)';
  if (typeof s.additionalProperties === 'object' && (s.additionalProperties as Json).properties)
    return '(below)';
  const fromYaml = sources.map((x) => findExample(x, name)).find((v) => v !== undefined);
  if (fromYaml !== undefined && (typeof fromYaml !== 'object' || JSON.stringify(fromYaml).length < 60)) {
    return code(fromYaml);
  }
  if (Array.isArray(s.examples) && s.examples.length > 0) return code(s.examples[0]);
  if (s.title === 'duration' || s.title === 'positive duration') return code('2s');
  if (s.const !== undefined) return code(s.const);
  if (Array.isArray(s.enum)) return code(s.enum.at(-1));
  const alts = options(s);
  if (alts) return exampleOf(name, alts[0] ?? {}, sources);
  if (s.default !== undefined && JSON.stringify(s.default) !== '{}') return code(s.default);
  if (s.type === 'integer' || s.type === 'number') return code(s.minimum ?? 1);
  if (s.type === 'boolean') return code(true);
  return '';
}

interface Section {
  title: string;
  intro?: string;
  yaml?: string;
  schema: Json;
  /** Fields documented elsewhere (`request`), linked instead of repeated. */
  skip?: Record<string, string>;
  /** Where examples of this section's fields are looked for (the scenarios' blocks of this kind). */
  sources?: readonly unknown[];
}

/** Descriptions of fields every invariant, fault or toxic has, where the schema has none. */
const COMMON: Record<string, string> = {
  type: 'Which type this block is.',
  name: 'Unique name, used in reports and witnesses.',
  description: 'Free text, shown in reports.',
};

function table(sec: Section): string {
  const props = (sec.schema.properties ?? {}) as Record<string, Json>;
  const required = new Set((sec.schema.required as string[] | undefined) ?? []);
  const sources = [...(sec.yaml ? [parse(sec.yaml)] : []), ...(sec.sources ?? [])];
  const rows = Object.entries(props).map(([name, s]) => {
    if (sec.skip?.[name]) return `| \`${name}\` | ${sec.skip[name]} | | | | |`;
    const def = s.default === undefined || JSON.stringify(s.default) === '{}' ? '' : code(s.default);
    const desc = `${required.has(name) ? '**Required.** ' : ''}${String(s.description ?? COMMON[name] ?? '')}`;
    return `| \`${name}\` | ${cell(typeOf(s))} | ${unitOf(name, s)} | ${cell(def)} | ${cell(desc)} | ${cell(exampleOf(name, s, sources))} |`;
  });
  return [
    '| field | type | unit | default | description | example |',
    '|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

function section(level: number, sec: Section): string {
  const parts = [`${'#'.repeat(level)} ${sec.title}`];
  if (sec.intro) parts.push(sec.intro);
  if (sec.yaml) parts.push(`\`\`\`yaml\n${sec.yaml}\n\`\`\``);
  parts.push(table(sec));
  return parts.join('\n\n');
}

/** The object schema of property `path` (`['target', 'health']`), through defaults and records. */
function at(root: Json, path: string[]): Json {
  let s = root;
  for (const k of path) {
    const props = s.properties as Record<string, Json> | undefined;
    if (k === '*') s = s.additionalProperties as Json;
    else if (k === '[]') s = s.items as Json;
    else s = props?.[k] as Json;
    if (!s) throw new Error(`no schema at ${path.join('.')}`);
  }
  return s;
}

/** The variants of a union discriminated on `type`, with their type names. */
function variants(s: Json): { type: string; schema: Json }[] {
  return (options(s) ?? []).map((v) => ({
    type: String(((v.properties as Record<string, Json>).type as Json).const),
    schema: v,
  }));
}

const typeSection = (
  prefix: string,
  v: { type: string; schema: Json },
  sources: readonly unknown[],
  skip?: Record<string, string>,
) =>
  section(3, {
    title: `${prefix} \`${v.type}\``,
    intro: v.schema.description as string | undefined,
    yaml: v.schema.yaml as string | undefined,
    schema: v.schema,
    skip,
    sources: sources.filter((x) => (x as Json | null)?.type === v.type),
  });

/** Every value at `path` in `values` (`*` any key or item). */
function pick(values: readonly unknown[], path: readonly string[]): unknown[] {
  let cur = [...values];
  for (const k of path) {
    cur = cur.flatMap((v) => {
      if (v === null || typeof v !== 'object') return [];
      return k === '*' ? Object.values(v) : [(v as Json)[k]];
    });
    cur = cur.filter((v) => v !== undefined);
  }
  return cur;
}

/**
 * The whole reference. `scenarios` are parsed scenario files whose values serve as the fields' examples
 * when a type's own YAML example lacks the field.
 */
export function scenarioReferenceMarkdown(scenarios: readonly unknown[] = []): string {
  const src = (...path: string[]) => pick(scenarios, path);
  const root = scenarioJsonSchema({ forDocs: true });
  const out: string[] = [REFERENCE_INTRO];
  const top = { ...root, properties: { ...(root.properties as Json) } };
  out.push(section(2, { title: 'Top level', schema: top, sources: scenarios }));

  out.push(section(2, { title: 'target', schema: at(root, ['target']), sources: src('target') }));
  out.push(TARGET_NOTES);
  out.push(
    [
      "### The target's environment",
      'Every replica of a target that whatbreaks starts gets these variables (on top of whatbreaks’ own environment and the variant’s `env`); `--env docker` passes the same names into the container.',
      '| variable | value | example |\n|---|---|---|',
    ].join('\n\n') +
      '\n' +
      TARGET_ENVIRONMENT_DOCS.map((r) => `| \`${r.name}\` | ${cell(r.value)} | \`${r.example}\` |`).join(
        '\n',
      ),
  );
  for (const [title, path] of [
    ['target.health', ['target', 'health']],
    ['target.loadBalancer', ['target', 'loadBalancer']],
    ['target.variants.&lt;name&gt;', ['target', 'variants', '*']],
  ] as const) {
    out.push(section(3, { title, schema: at(root, [...path]), sources: src(...path) }));
  }
  const docker = at(root, ['target', 'docker']);
  out.push(
    section(3, {
      title: 'target.docker',
      intro: 'Give `image` or `dockerfile`.',
      schema: docker,
      sources: src('target', 'docker'),
    }),
  );

  out.push(section(2, { title: 'database', schema: at(root, ['database']), sources: src('database') }));
  out.push(
    section(3, {
      title: 'database.generate',
      schema: at(root, ['database', 'generate']),
      sources: src('database', 'generate'),
    }),
  );
  out.push(
    section(3, {
      title: 'database.generate.tables[]',
      schema: at(root, ['database', 'generate', 'tables', '[]']),
      sources: src('database', 'generate', 'tables', '*'),
    }),
  );

  const dep = at(root, ['dependencies', '*']);
  out.push(
    section(2, { title: 'dependencies.&lt;name&gt;', schema: dep, sources: src('dependencies', '*') }),
  );
  out.push(
    section(3, {
      title: 'dependencies.&lt;name&gt;.health',
      schema: at(dep, ['health']),
      sources: src('dependencies', '*', 'health'),
    }),
  );
  out.push(stubsSection());

  const request = ' see [request](#the-request-template)';
  out.push('## load\n\n`load.type` chooses one of the load types below; each has its own fields.');
  for (const v of variants(at(root, ['load'])))
    out.push(typeSection('load.type:', v, src('load'), { request }));
  const burst = variants(at(root, ['load'])).find((v) => v.type === 'burst')!;
  out.push(
    section(3, {
      title: 'The request template',
      intro:
        'The `request` of every load type. Strings may contain `{{i}}` (0-based request index), `{{n}}` (1-based) and `{{trial}}` (1-based trial number); a string that is exactly one placeholder becomes the number itself (`"{{n}}"` sends a JSON number).',
      schema: at(burst.schema, ['request']),
      sources: src('load', 'request'),
    }),
  );

  out.push('## invariants\n\nA list; each item has a `type` and a unique `name`.');
  for (const v of variants(at(root, ['invariants', '[]'])))
    out.push(typeSection('invariant type:', v, src('invariants', '*')));

  const faults = variants(at(root, ['faults', '[]']));
  out.push(
    '## faults\n\nA list; every fault has `type`, `at` (when to apply it, from the start of the load) and optionally `for` (how long until it is reverted; without it, it is reverted when the load ends, if it can be).',
  );
  for (const v of faults) out.push(typeSection('fault type:', v, src('faults', '*')));
  const toxic = faults.find((f) => f.type === 'toxic');
  if (toxic) {
    out.push('### Toxics\n\nThe `toxic:` of a `toxic` fault (Toxiproxy’s names and units).');
    for (const v of variants(at(toxic.schema, ['toxic']))) {
      const toxics = src('faults', '*', 'toxic');
      out.push(typeSection('toxic type:', v, toxics));
      const attrs = (v.schema.properties as Record<string, Json>).attributes;
      const attrSources = pick(
        toxics.filter((t) => (t as Json | null)?.type === v.type),
        ['attributes'],
      );
      if (attrs?.properties) {
        out.push(section(4, { title: `\`${v.type}\` attributes`, schema: attrs, sources: attrSources }));
      }
    }
  }
  out.push(
    `## Rules checked only by \`whatbreaks validate\`\n\nThe JSON Schema checks everything above except:\n\n${ZOD_ONLY_RULES.map((r) => `- ${r}`).join('\n')}\n\nand what needs the disk or the whole file: that the files and folders named exist, that \`defaultVariant\` names a variant, that invariant names are unique, that faults name a replica, a dependency or a proxy that exists and fall inside the load's planned duration.`,
  );
  return `${out.join('\n\n')}\n`;
}

function stubsSection(): string {
  const parts = [
    '### Stub services (`whatbreaks stub`)',
    'Services shipped with whatbreaks to stand in for a dependency, runnable from the installed package (no checkout of this repository needed). As a dependency, whatbreaks gives the port in `PORT`:',
    '```yaml\ndependencies:\n  upstream:\n    command: npx whatbreaks stub upstream --latency-ms 2500\n```',
    'whatbreaks stops a dependency by signalling its whole process group, so `npx` in front is fine there; run by hand, stop it with Ctrl-C (a SIGTERM sent to `npx` alone does not reach the stub).',
  ];
  for (const s of STUBS) {
    parts.push(`#### \`whatbreaks stub ${s.name}\`\n\n${s.summary}${s.needs ? ` Needs ${s.needs}.` : ''}`);
    parts.push(
      s.endpoints
        .map((e) => `- \`${e.split(' → ')[0]}\` → ${e.split(' → ').slice(1).join(' → ')}`)
        .join('\n'),
    );
    parts.push(
      `| option | variable | default | meaning |\n|---|---|---|---|\n${s.options
        .map((o) => `| \`${o.flag}\` | \`${o.env}\` | ${cell(o.defaultValue)} | ${cell(o.description)} |`)
        .join('\n')}`,
    );
  }
  return parts.join('\n\n');
}
