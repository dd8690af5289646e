import { serialize } from 'pg-protocol';
import { describe, expect, it } from 'vitest';
import { Gate, holdAll, holdWhen, passThrough } from './gate.js';
import { StatementRegistry, StepBuilder } from './step.js';

const raw = serialize.query('SELECT 1');
const b = new StepBuilder(0, new StatementRegistry());
b.add(raw);
const step = b.build({ id: 1, connectionId: 2, backendPid: 3, seq: 1, boundary: 'query', readyAtMs: 0 });

describe('gates', () => {
  it('passThrough releases, holdAll holds, holdWhen holds what its predicate accepts', () => {
    expect(passThrough.admit(step)).toBe('release');
    expect(holdAll().admit(step)).toBe('hold');
    expect(holdWhen((s) => s.connectionId === 2).admit(step)).toBe('hold');
    expect(holdWhen((s) => s.connectionId === 9).admit(step)).toBe('release');
    expect(Gate.passThrough).toBe(passThrough);
  });
});
