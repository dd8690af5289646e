import { describe, expect, it } from 'vitest';
import type { StepRow } from '../interleave/step-row.js';
import { swimlane } from './html-swimlane.js';

const step = (order: number, request: number, sql: string, result = 'UPDATE 1'): StepRow => ({
  order,
  request,
  connection: 1,
  sql: [sql],
  result,
});

describe('swimlane', () => {
  it('puts each step in its request column, in release order, escaped', () => {
    const html = swimlane(
      [
        step(1, 0, 'SELECT 1 WHERE 1 < 2', 'SELECT 1'),
        step(2, 1, 'UPDATE t SET a = 1'),
        step(3, 0, 'COMMIT'),
      ],
      2,
    );
    const rows = html.split('<tr>').slice(2);
    expect(rows).toHaveLength(3);
    // Row 1: lane 0 filled, lane 1 empty; row 2 the other way round.
    expect(rows[0]).toMatch(
      /^<td>1<\/td><td class="lane"><code>SELECT 1 WHERE 1 &lt; 2<\/code>.*<\/td><td><\/td><\/tr>/,
    );
    expect(rows[1]).toMatch(/^<td>2<\/td><td><\/td><td class="lane"><code>UPDATE t SET a = 1<\/code>/);
    expect(rows[2]).toMatch(/^<td>3<\/td><td class="lane"><code>COMMIT/);
  });
});
