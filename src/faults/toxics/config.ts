import { z } from 'zod';
import type { Toxic } from '../toxic.js';

/**
 * The shape every toxic's configuration shares, as in Toxiproxy's API:
 *
 * ```json
 * { "name": "latency_downstream", "type": "latency", "stream": "downstream", "toxicity": 1.0,
 *   "attributes": { "latency": 1000, "jitter": 0 } }
 * ```
 *
 * `attributes` keep Toxiproxy's names and units (documented on each toxic's schema), so a Toxiproxy
 * configuration can be copied over. `stream: both` is a whatbreaks addition: one toxic on both links.
 */
export const streamSchema = z.enum(['upstream', 'downstream', 'both']);
/** `upstream` = client → server, `downstream` = server → client (Toxiproxy's names). */
export type Stream = z.output<typeof streamSchema>;
export type Direction = 'upstream' | 'downstream';

export function toxicConfig<const T extends string, A extends z.ZodType>(
  type: T,
  attributes: A,
  options: { defaultStream?: Stream; streams?: readonly [Stream, ...Stream[]] } = {},
) {
  const streams = options.streams ?? streamSchema.options;
  return z.strictObject({
    type: z.literal(type),
    name: z
      .string()
      .min(1)
      .optional()
      .meta({ description: "Unique per proxy; default `<type>_<stream>` (Toxiproxy's default)." }),
    stream: z
      .enum(streams)
      .default(options.defaultStream ?? 'downstream')
      .meta({ description: "Which direction the toxic acts on; Toxiproxy's default is `downstream`." }),
    toxicity: z.number().min(0).max(1).default(1).meta({
      description: 'Probability (0..1) that the toxic applies to a connection; rolled once per connection.',
    }),
    attributes,
  });
}

/**
 * What a toxic file exports: its `type`, its `config` schema (built with `toxicConfig`) and `create`,
 * which builds the toxic from parsed attributes. The registry checks this shape with `satisfies`.
 */
export interface ToxicModule {
  readonly type: string;
  readonly config: z.ZodType<{ type: string; attributes: unknown }>;
  // biome-ignore lint/suspicious/noExplicitAny: per-connection state type differs per toxic.
  create(attributes: never): Toxic<any>;
}
