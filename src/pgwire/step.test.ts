import { serialize } from 'pg-protocol';
import { describe, expect, it } from 'vitest';
import { boundaryOf, isStepMessage, StatementRegistry, type Step, StepBuilder } from './step.js';

function build(registry: StatementRegistry, ...raws: Buffer[]): Step {
  const b = new StepBuilder(10, registry);
  for (const raw of raws) b.add(raw);
  const last = raws[raws.length - 1]![0]!;
  return b.build({
    id: 1,
    connectionId: 2,
    backendPid: 3,
    seq: 1,
    boundary: boundaryOf(last)!,
    readyAtMs: 11,
  });
}

describe('StepBuilder', () => {
  it('records an Execute with the SQL of its portal’s statement and the Bind values', () => {
    const step = build(
      new StatementRegistry(),
      serialize.parse({ text: "UPDATE jobs SET state = 'done'  WHERE id = $1" }),
      serialize.bind({ values: ['7'] }),
      serialize.describe({ type: 'P' }),
      serialize.execute(),
      serialize.sync(),
    );
    expect(step).toMatchObject({
      boundary: 'sync',
      messages: ['Parse', 'Bind', 'Describe', 'Execute', 'Sync'],
      statements: [
        {
          via: 'execute',
          text: "UPDATE jobs SET state = 'done' WHERE id = $1",
          shape: 'UPDATE jobs SET state = $2 WHERE id = $1',
          statement: '',
          params: [{ format: 'text', value: '7' }],
        },
      ],
      state: 'queued',
      results: [],
      timing: { arrivedAtMs: 10, readyAtMs: 11 },
    });
    expect(step.bytes).toBeGreaterThan(0);
  });

  it('finds a named statement prepared in an earlier step of the connection, until it is closed', () => {
    const registry = new StatementRegistry();
    const prepared = build(registry, serialize.parse({ name: 'find', text: 'SELECT $1' }), serialize.sync());
    expect(prepared.statements).toEqual([
      { via: 'parse', text: 'SELECT $1', shape: 'SELECT $1', statement: 'find' },
    ]);
    const run = build(
      registry,
      serialize.bind({ statement: 'find', values: ['x'] }),
      serialize.execute(),
      serialize.sync(),
    );
    expect(run.statements[0]).toMatchObject({ text: 'SELECT $1', statement: 'find' });
    build(registry, serialize.close({ type: 'S', name: 'find' }), serialize.sync());
    expect(registry.statements.has('find')).toBe(false);
  });

  it('lists each statement of a simple Query', () => {
    const step = build(new StatementRegistry(), serialize.query('BEGIN; SELECT 1 FROM t FOR UPDATE; COMMIT'));
    expect(step.boundary).toBe('query');
    expect(step.statements.map((s) => s.text)).toEqual(['BEGIN', 'SELECT 1 FROM t FOR UPDATE', 'COMMIT']);
  });
});

describe('boundaries', () => {
  it('Query, Sync, Flush and FunctionCall end a step; Parse/Bind/Describe/Execute/Close belong to one', () => {
    expect(['Q', 'S', 'H', 'F'].map((c) => boundaryOf(c.charCodeAt(0)))).toEqual([
      'query',
      'sync',
      'flush',
      'function-call',
    ]);
    expect(['P', 'B', 'D', 'E', 'C'].every((c) => isStepMessage(c.charCodeAt(0)))).toBe(true);
    expect(['d', 'c', 'f', 'X', 'p'].some((c) => isStepMessage(c.charCodeAt(0)))).toBe(false);
  });
});
