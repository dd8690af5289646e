import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runScenario } from '../src/run.js';
import { parseScenario } from '../src/scenario/load.js';
import { leftovers, markTest, ROOT } from './helpers.js';

/**
 * The memory invariant when a nemesis stops replicas on purpose: a `kill-replica` (the replica stays
 * down) and a `restart-replica` by SIGKILL (a new process takes its place) are the scenario's faults,
 * not memory kills. Before the sampler was told (`stoppedOnPurpose`), both made `memory` fail a trial
 * in which nothing used more than a few tens of MiB.
 */
const SCENARIO = `
name: memory-nemesis
target:
  command: node ../../dist/targets/jobs/server.js
  health: { path: /health }
  replicas: 2
  variants: { fixed: { env: { VARIANT: fixed } } }
database:
  schema: ../../targets/jobs/schema.sql
load: { type: idle, durationMs: 2s }
faults:
  - { type: kill-replica, at: 300ms, replica: 1 }
  - { type: restart-replica, at: 300ms, replica: 0, signal: SIGKILL }
invariants:
  - { type: memory, name: under-a-gib, ceilingMiB: 1024 }
trials: 1
`;

describe('memory with nemeses', () => {
  it('a replica killed or restarted by a fault is not a memory violation, nor an OOM kill', async () => {
    const mark = markTest();
    const scenario = parseScenario(SCENARIO, join(ROOT, 'test', 'fixtures', 'memory-nemesis.yaml'));
    const { report } = await runScenario(scenario, {
      variant: 'fixed',
      trials: 1,
      outDir: mkdtempSync(join(tmpdir(), 'whatbreaks-test-memory-nemesis-')),
    });
    expect(report.error).toBeUndefined();
    const t = report.trials[0]!;
    expect(t.faults!.map((f) => [f.type, f.outcome])).toEqual([
      ['kill-replica', 'applied'],
      ['restart-replica', 'applied'],
    ]);
    const memory = t.invariants.find((i) => i.type === 'memory')!;
    expect(memory.summary).toMatch(/^peak [\d.]+ MiB ≤ 1024 MiB, no kill$/);
    expect(memory.holds).toBe(true);
    expect(t.verdict).toBe('pass');
    // Both replicas ended by a signal during the trial, and both are marked as stopped on purpose.
    expect(t.rss!.map((r) => [r.replica, r.exit?.signal, r.killedBy, r.oomKilled])).toEqual([
      [0, 'SIGKILL', 'nemesis', false],
      [1, 'SIGKILL', 'nemesis', false],
    ]);
    expect(await leftovers(mark)).toEqual({ processes: [], dirs: [] });
  });
});
