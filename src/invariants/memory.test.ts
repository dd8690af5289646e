import { describe, expect, it } from 'vitest';
import type { ReplicaMemory } from '../observe/rss-sampler.js';
import { config, create } from './memory.js';
import type { QueryableDatabase, TrialObservation } from './types.js';

/**
 * The memory verdict from what the sampler measured (`ReplicaMemory`, as `observe/rss-sampler.ts`
 * returns it; that sampler is tested against real processes in `rss-sampler.test.ts`).
 */
const noDb: QueryableDatabase = {
  query: () => Promise.reject(new Error('memory must not query the database')),
};

/** A replica sampled at 0, 50, 100 … ms with these RSS values (MiB). */
function replica(id: number, mib: number[], more: Partial<ReplicaMemory> = {}): ReplicaMemory {
  const timeline = mib.map((m, i) => [i * 50, m] as [number, number]);
  const peakMiB = Math.max(0, ...mib);
  const peakAtMs = timeline.find(([, m]) => m === peakMiB)?.[0] ?? 0;
  return { replica: id, pid: 1000 + id, peakMiB, peakAtMs, timeline, ...more };
}

async function check(replicas: ReplicaMemory[] | undefined, ceilingMiB = 256) {
  const inv = create(config.parse({ type: 'memory', name: 'fits', ceilingMiB }));
  const trial: TrialObservation = {
    trial: 1,
    db: noDb,
    load: { kind: 'burst', records: [], startedAtMs: 0, durationMs: 0, warnings: [] },
    replicas,
  };
  return inv.check(trial);
}

describe('memory', () => {
  it('holds when every replica stayed at or under the ceiling and none was killed', async () => {
    const r = await check([replica(0, [80, 120, 256]), replica(1, [90, 100])]);
    expect(r).toMatchObject({ holds: true, summary: 'peak 256 MiB ≤ 256 MiB, no kill', witnesses: [] });
  });

  it('a peak over the ceiling fails, naming the replica, its peak and when', async () => {
    const r = await check([replica(0, [80, 100]), replica(1, [90, 300.5, 120])]);
    expect(r.holds).toBe(false);
    expect(r.summary).toBe('replica 1 peaked at 300.5 MiB (> 256 MiB) at 0.05 s');
    expect(r.witnesses).toEqual([
      {
        replica: 1,
        pid: 1001,
        peakMiB: 300.5,
        ceilingMiB: 256,
        peakAtMs: 50,
        killSignal: null,
        killedAtMs: null,
        killedBy: null,
      },
    ]);
  });

  it('a peak between samples (the kernel high-water mark) counts as much as a sampled one', async () => {
    // The sampler reports the larger of the sampled RSS and VmHWM as peakMiB.
    const r = await check([{ ...replica(0, [100, 110]), peakMiB: 400 }]);
    expect(r.holds).toBe(false);
    expect(r.witnesses[0]).toMatchObject({ peakMiB: 400 });
  });

  it('an OOM kill fails even under the ceiling: the process was killed before it could grow', async () => {
    const r = await check([
      replica(0, [100, 200], { exit: { code: null, signal: 'SIGKILL', atMs: 120 }, killedBy: 'signal' }),
    ]);
    expect(r.holds).toBe(false);
    expect(r.summary).toBe('replica 0 stayed at ≤ 200 MiB, killed by SIGKILL at 0.12 s');
    expect(r.witnesses[0]).toMatchObject({
      killSignal: 'SIGKILL',
      killedAtMs: 120,
      killedBy: 'external (OOM killer?)',
    });
  });

  it('the enforced limit (target.memoryLimitMiB) killing a replica fails, saying so', async () => {
    const r = await check([
      replica(0, [100, 520], { exit: { code: null, signal: 'SIGKILL', atMs: 100 }, killedBy: 'limit' }),
    ]);
    expect(r.holds).toBe(false);
    expect(r.summary).toBe(
      'replica 0 peaked at 520 MiB (> 256 MiB) at 0.05 s, killed by SIGKILL at 0.10 s (enforced limit)',
    );
    expect(r.witnesses[0]).toMatchObject({ killedBy: 'enforced memory limit' });
  });

  it('any other signal that ends a replica counts too (V8 out of heap aborts: SIGABRT)', async () => {
    const r = await check([replica(0, [100], { exit: { code: null, signal: 'SIGABRT', atMs: 40 } })]);
    expect(r.holds).toBe(false);
    expect(r.witnesses[0]).toMatchObject({ killSignal: 'SIGABRT', killedBy: null });
  });

  it('a replica a nemesis stopped on purpose is not a memory violation; its peak still counts', async () => {
    const stopped = {
      exit: { code: null, signal: 'SIGKILL' as const, atMs: 60 },
      killedBy: 'nemesis' as const,
    };
    expect((await check([replica(0, [100, 120], stopped), replica(1, [90])])).holds).toBe(true);
    expect((await check([replica(0, [100, 300], stopped)])).holds).toBe(false);
  });

  it('an exit with a code is not a kill (the run reports it as a crash)', async () => {
    const r = await check([replica(0, [100], { exit: { code: 1, signal: null, atMs: 70 } })]);
    expect(r.holds).toBe(true);
  });

  it('nothing sampled is unknown, never a pass: no replicas, or a replica without samples', async () => {
    for (const replicas of [undefined, []]) {
      const r = await check(replicas);
      expect(r.holds).toBe('unknown');
      expect(r.summary).toBe('no RSS samples: the memory of the target was not observed');
    }
    const r = await check([replica(0, [100]), replica(1, [])]);
    expect(r).toMatchObject({
      holds: 'unknown',
      summary: '1 replica(s) without RSS samples; ceiling not verified',
    });
  });

  it('a violation on one replica fails even when another was not sampled', async () => {
    const r = await check([replica(0, [300]), replica(1, [])]);
    expect(r.holds).toBe(false);
  });

  it('a replica killed before its first sample fails (the kill is the finding)', async () => {
    const r = await check([
      replica(0, [], { exit: { code: null, signal: 'SIGKILL', atMs: 0 }, killedBy: 'signal' }),
    ]);
    expect(r.holds).toBe(false);
  });

  it('the ceiling must be positive', () => {
    expect(config.safeParse({ type: 'memory', name: 'm', ceilingMiB: 0 }).success).toBe(false);
    expect(config.safeParse({ type: 'memory', name: 'm' }).success).toBe(false);
  });
});
