import { z } from 'zod';
import type { Invariant, InvariantResult } from './types.js';
import { MAX_WITNESSES_KEPT } from './types.js';

/**
 * `sql`: a query that returns the rows violating the property. Holds when it returns no row; every row
 * it returns is a witness. Write it the way you would hunt the bug by hand, e.g. trucks whose bookings
 * exceed their capacity.
 *
 * ```yaml
 * - type: sql
 *   name: no-overbooking
 *   query: |
 *     SELECT t.id AS truck, t.capacity_kg, sum(b.weight_kg) AS booked_kg
 *     FROM trucks t JOIN bookings b ON b.truck_id = t.id
 *     GROUP BY t.id HAVING sum(b.weight_kg) > t.capacity_kg
 *   summary: "truck {{truck}} booked {{booked_kg}} kg of {{capacity_kg}} kg"
 * ```
 *
 * A query that fails (syntax, missing table, an error while it runs) makes the verdict `unknown` with the
 * database's message, as does a query of several statements (there is no one result to judge).
 */
export const config = z
  .strictObject({
    type: z.literal('sql'),
    name: z.string().min(1),
    description: z.string().optional(),
    query: z.string().min(1).meta({
      description:
        'One SELECT returning the rows that violate the property (none: it holds; each row is a witness, its columns shown). Several statements or a query that fails make the trial `unknown`.',
    }),
    summary: z.string().optional().meta({
      description: "Line per witness for the summary; `{{column}}` is replaced by the row's value.",
    }),
  })
  .meta({
    description:
      '`sql`: a query that returns the rows violating the property. Holds when it returns no row; every row it returns is a witness. Write it the way you would hunt the bug by hand, e.g. trucks whose bookings exceed their capacity.',
    yaml: '- type: sql\n  name: no-overbooking\n  query: |\n    SELECT t.id AS truck, t.capacity_kg, sum(b.weight_kg) AS booked_kg\n    FROM trucks t JOIN bookings b ON b.truck_id = t.id\n    GROUP BY t.id HAVING sum(b.weight_kg) > t.capacity_kg\n  summary: "truck {{truck}} booked {{booked_kg}} kg of {{capacity_kg}} kg"',
  });
export type SqlInvariantConfig = z.output<typeof config>;

const PLACEHOLDER = /\{\{\s*([\w.]+)\s*\}\}/g;

function describeRow(template: string | undefined, row: Record<string, unknown>): string {
  if (!template) return JSON.stringify(row);
  return template.replace(PLACEHOLDER, (m, col: string) => (col in row ? String(row[col]) : m));
}

/**
 * `summary` placeholders that name no column of the query's rows (a typo, a column renamed): said in the
 * summary, so a person does not read `job undefined`. The verdict does not depend on the summary.
 */
function missingColumns(template: string | undefined, row: Record<string, unknown>): string {
  if (!template) return '';
  const missing = [...template.matchAll(PLACEHOLDER)].map((m) => m[1]!).filter((c) => !(c in row));
  if (missing.length === 0) return '';
  return ` [summary: no column ${[...new Set(missing)].join(', ')} in the rows; columns: ${Object.keys(row).join(', ')}]`;
}

export function create(cfg: SqlInvariantConfig): Invariant {
  return {
    name: cfg.name,
    type: 'sql',
    async check({ db }) {
      const unknown = (summary: string): InvariantResult => ({
        name: cfg.name,
        type: 'sql',
        holds: 'unknown',
        summary,
        witnesses: [],
        witnessCount: 0,
      });
      let rows: Record<string, unknown>[];
      try {
        rows = await db.query(cfg.query);
      } catch (err) {
        return unknown(`query failed: ${(err as Error).message}`);
      }
      // node-postgres answers several statements with one result each, and `rows` of none of them.
      if (!Array.isArray(rows)) {
        return unknown('the query gave no single result: write one statement returning the violating rows');
      }
      const shown = rows.slice(0, 3).map((r) => describeRow(cfg.summary, r));
      const more = `${rows.length > 3 ? ` (+${rows.length - 3} more)` : ''}${rows[0] ? missingColumns(cfg.summary, rows[0]) : ''}`;
      return {
        name: cfg.name,
        type: 'sql',
        holds: rows.length === 0,
        summary:
          rows.length === 0
            ? 'no violating rows'
            : `${rows.length} violating row${rows.length === 1 ? '' : 's'}: ${shown.join('; ')}${more}`,
        witnesses: rows.slice(0, MAX_WITNESSES_KEPT),
        witnessCount: rows.length,
      };
    },
  };
}
