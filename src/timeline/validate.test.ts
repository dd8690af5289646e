import { describe, expect, it } from 'vitest';
import type { FaultConfig } from './registry.js';
import { validateFaults } from './validate.js';

const kill = (at: number, replica: number, restartAfter?: number): FaultConfig => ({
  type: 'kill-replica',
  at,
  replica,
  signal: 'SIGKILL',
  restartAfter,
});

describe('validateFaults', () => {
  it('accepts disjoint faults', () => {
    expect(
      validateFaults([kill(1000, 0, 1000), kill(2000, 0), kill(500, 1)], {
        replicas: 2,
        loadDurationMs: 10_000,
      }),
    ).toEqual([]);
  });
  it('rejects at beyond the load', () => {
    const issues = validateFaults([kill(12_000, 0)], { replicas: 2, loadDurationMs: 10_000 });
    expect(issues).toHaveLength(1);
    expect(issues[0]!.path).toEqual(['faults', 0, 'at']);
    expect(issues[0]!.message).toMatch(/not before the end of the load \(10 s\)/);
  });
  it('does not judge at when the load duration is unknown', () => {
    expect(validateFaults([kill(12_000, 0)], { replicas: 1 })).toEqual([]);
  });
  it('rejects overlapping faults on one replica, and a missing replica', () => {
    const issues = validateFaults(
      [
        kill(1000, 0),
        { type: 'restart-replica', at: 3000, replica: 0, signal: 'SIGTERM', graceMs: 3000 },
        kill(0, 5),
      ],
      { replicas: 2, loadDurationMs: 10_000 },
    );
    expect(issues.map((i) => i.path)).toEqual([
      ['faults', 2],
      ['faults', 1, 'at'],
    ]);
    expect(issues[1]!.message).toMatch(
      /overlaps fault 1 \(kill-replica at 1 s, never reverted\) on replica:0/,
    );
    expect(issues[0]!.message).toMatch(/replica 5 does not exist/);
  });
  it('two restarts of one replica within its grace period conflict', () => {
    const r = (at: number): FaultConfig => ({
      type: 'restart-replica',
      at,
      replica: 0,
      signal: 'SIGTERM',
      graceMs: 3000,
    });
    expect(validateFaults([r(1000), r(1000)], { replicas: 1 })).toHaveLength(1);
    expect(validateFaults([r(1000), r(2000)], { replicas: 1 })).toHaveLength(1);
    expect(validateFaults([r(1000), r(4000)], { replicas: 1 })).toEqual([]);
  });
  it('a replica chosen by query overlaps every replica; replica and replicaQuery exclude each other', () => {
    const byQuery = (at: number, restartAfter?: number): FaultConfig => ({
      type: 'kill-replica',
      at,
      replicaQuery: 'SELECT 1',
      signal: 'SIGKILL',
      restartAfter,
    });
    const late = validateFaults([byQuery(1000), kill(6000, 1)], { replicas: 2, loadDurationMs: 10_000 });
    expect(late.map((i) => i.message)).toEqual([expect.stringMatching(/overlaps fault 1 .* on replica:1/)]);
    // The query may take up to waitMs (default 3 s) to choose: the window starts at `at`, not at the kill.
    expect(validateFaults([byQuery(1000, 1000), kill(4500, 1)], { replicas: 2 })).toHaveLength(1);
    expect(validateFaults([byQuery(1000, 1000), kill(5000, 1)], { replicas: 2 })).toEqual([]);
    const both: FaultConfig = {
      type: 'kill-replica',
      at: 1000,
      replica: 0,
      replicaQuery: 'SELECT 0',
      signal: 'SIGKILL',
    };
    const neither: FaultConfig = { type: 'kill-replica', at: 1000, signal: 'SIGKILL' };
    const waitAlone: FaultConfig = {
      type: 'kill-replica',
      at: 1000,
      replica: 0,
      waitMs: 500,
      signal: 'SIGKILL',
    };
    for (const f of [both, neither])
      expect(validateFaults([f], { replicas: 2 }).map((i) => i.message)).toEqual([
        expect.stringMatching(/give replica .* or replicaQuery .*, exactly one/),
      ]);
    expect(validateFaults([waitAlone], { replicas: 2 }).map((i) => i.message)).toEqual([
      'waitMs only applies with replicaQuery',
    ]);
  });
});
