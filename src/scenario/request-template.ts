import { z } from 'zod';
import type { PreparedRequest } from '../load/types.js';

/**
 * The request a load phase sends, as written in a scenario. Strings may contain placeholders that vary
 * per request: `{{i}}` (0-based request index), `{{n}}` (1-based), `{{trial}}` (1-based trial number).
 * A string that is exactly one placeholder becomes the number itself (so `shipment_id: "{{n}}"` sends a
 * JSON number); elsewhere the value is spliced into the text.
 */
export const requestTemplateSchema = z.strictObject({
  method: z
    .enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'])
    .default('GET')
    .meta({ description: 'HTTP method.', examples: ['POST'] }),
  path: z
    .string()
    .startsWith('/', 'must start with /')
    .meta({
      description: 'Path and query, may contain placeholders.',
      examples: ['/api/jobs/{{n}}/complete'],
    }),
  headers: z
    .record(z.string(), z.string())
    .default({})
    .meta({
      description: 'Request headers; values may contain placeholders.',
      examples: [{ 'idempotency-key': 'order-{{n}}' }],
    }),
  json: z
    .unknown()
    .optional()
    .meta({ description: 'A JSON body; sets `content-type: application/json` unless given.' }),
  body: z.string().optional().meta({ description: 'A raw text body.' }),
});
export type RequestTemplate = z.output<typeof requestTemplateSchema>;

export interface TemplateVars {
  i: number;
  n: number;
  trial: number;
}

const PLACEHOLDER = /\{\{\s*(i|n|trial)\s*\}\}/g;
const WHOLE = /^\{\{\s*(i|n|trial)\s*\}\}$/;

function expand(value: unknown, vars: TemplateVars): unknown {
  if (typeof value === 'string') {
    const whole = WHOLE.exec(value);
    if (whole) return vars[whole[1] as keyof TemplateVars];
    return value.replace(PLACEHOLDER, (_m, name: keyof TemplateVars) => String(vars[name]));
  }
  if (Array.isArray(value)) return value.map((v) => expand(v, vars));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expand(v, vars)]));
  }
  return value;
}

function expandText(value: string, vars: TemplateVars): string {
  return value.replace(PLACEHOLDER, (_m, name: keyof TemplateVars) => String(vars[name]));
}

/** Render request `vars.i` of a trial from its template. */
export function renderRequest(template: RequestTemplate, vars: TemplateVars): PreparedRequest {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(template.headers)) headers[k.toLowerCase()] = expandText(v, vars);
  let body: Buffer | undefined;
  if (template.json !== undefined) {
    body = Buffer.from(JSON.stringify(expand(template.json, vars)));
    headers['content-type'] ??= 'application/json';
  } else if (template.body !== undefined) {
    body = Buffer.from(expandText(template.body, vars));
  }
  return { index: vars.i, method: template.method, path: expandText(template.path, vars), headers, body };
}
