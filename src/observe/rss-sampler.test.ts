import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { killGroup } from '../env/teardown.js';
import type { Replica } from '../env/types.js';
import { procTree, RssSampler, readProcMemory } from './rss-sampler.js';

/**
 * The sampler against real processes: `test/fixtures/rss-tree.mjs` is a small root process with one
 * child that allocates (and touches) as much memory as the test says, in a process group of its own, as
 * a target replica runs. Linux only (`/proc`), as the sampler.
 */
const FIXTURE = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'rss-tree.mjs');

interface Tree {
  replica: Replica & { exit: Replica['exit'] };
  childPid: number;
  /** Send a command and wait for the child to have carried it out. */
  send(cmd: string): Promise<void>;
  /** Send a command without waiting for an answer (the tree may not live to give one). */
  write(cmd: string): void;
  exited: Promise<void>;
}

const started: ChildProcessByStdio<Writable, Readable, null>[] = [];
afterEach(() => {
  for (const p of started.splice(0)) killGroup(p.pid, 'SIGKILL');
});

async function startTree(id = 0): Promise<Tree> {
  const proc = spawn(process.execPath, [FIXTURE], { stdio: ['pipe', 'pipe', 'inherit'], detached: true });
  started.push(proc);
  const replica: Tree['replica'] = {
    id,
    url: new URL('http://127.0.0.1:1'),
    pid: proc.pid,
    logFile: '/dev/null',
    lastLines: () => [],
    exit: undefined,
  };
  const exited = new Promise<void>((resolve) =>
    proc.once('exit', (code, signal) => {
      replica.exit = { code, signal };
      resolve();
    }),
  );
  const lines = createInterface({ input: proc.stdout });
  const waiting: ((line: string) => void)[] = [];
  lines.on('line', (l) => waiting.shift()?.(l));
  const next = () => new Promise<string>((resolve) => waiting.push(resolve));
  const ready = await next();
  const childPid = Number(/^ready (\d+)$/.exec(ready)?.[1]);
  return {
    replica,
    childPid,
    exited,
    async send(cmd) {
      const answer = next();
      proc.stdin.write(`${cmd}\n`);
      expect(await answer).toBe(`done ${cmd}`);
    },
    write(cmd) {
      proc.stdin.write(`${cmd}\n`);
    },
  };
}

const clock = () => performance.now();
const rssMiB = (pid: number) => (readProcMemory(pid)?.rssKiB ?? 0) / 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('RssSampler on a real process tree', () => {
  it('sums the RSS of the whole tree (root and the child that allocates), sample by sample', async () => {
    const tree = await startTree();
    expect(procTree(tree.replica.pid!)).toEqual([tree.replica.pid, tree.childPid]);
    const rootMiB = rssMiB(tree.replica.pid!);
    const sampler = RssSampler.start([tree.replica], { clock, intervalMs: 20 });
    await tree.send('hold 150');
    await sleep(100);
    const [mem] = await sampler.stop();
    expect(mem!.replica).toBe(0);
    expect(mem!.pid).toBe(tree.replica.pid);
    // The child's 150 MiB plus both Node processes; the root alone is a few tens of MiB.
    expect(mem!.peakMiB).toBeGreaterThan(150 + rootMiB);
    expect(mem!.timeline.length).toBeGreaterThanOrEqual(4);
    const last = mem!.timeline.at(-1)!;
    expect(last[1]).toBeGreaterThan(150 + rootMiB);
    // Samples are on the given clock, in order, and the peak is one of them (or the high-water mark).
    const times = mem!.timeline.map(([t]) => t);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(mem!.peakMiB).toBeGreaterThanOrEqual(Math.max(...mem!.timeline.map(([, m]) => m)));
    expect(mem!.exit).toBeUndefined();
  });

  it('catches a spike between two samples from the kernel high-water mark', async () => {
    const tree = await startTree();
    // One sample at start, one at stop: the spike happens in between and is gone by the stop.
    const sampler = RssSampler.start([tree.replica], { clock, intervalMs: 60_000 });
    await tree.send('spike 200');
    // The memory goes back to the kernel once V8 has freed the buffer (at most a moment after the gc).
    for (let i = 0; i < 50 && rssMiB(tree.childPid) >= 150; i++) await sleep(20);
    expect(rssMiB(tree.childPid)).toBeLessThan(150);
    const [mem] = await sampler.stop();
    expect(Math.max(...mem!.timeline.map(([, m]) => m))).toBeLessThan(150);
    expect(mem!.peakMiB).toBeGreaterThanOrEqual(200);
  });

  it('does not count a high-water mark from before the trial (it is reset at start)', async () => {
    const tree = await startTree();
    await tree.send('spike 200');
    const sampler = RssSampler.start([tree.replica], { clock, intervalMs: 60_000 });
    await sleep(50);
    const [mem] = await sampler.stop();
    expect(mem!.peakMiB).toBeLessThan(150);
  });

  it('the enforced limit SIGKILLs the process group once the tree passes it (killedBy: limit)', async () => {
    const tree = await startTree();
    const sampler = RssSampler.start([tree.replica], { clock, intervalMs: 20, limitMiB: 150 });
    tree.write('hold 200');
    // (Bounded: without the kill the tree would live on and the test fail here, not time out.)
    await Promise.race([tree.exited, sleep(10_000)]);
    const [mem] = await sampler.stop();
    expect(tree.replica.exit).toEqual({ code: null, signal: 'SIGKILL' });
    expect(mem!.killedBy).toBe('limit');
    expect(mem!.exit).toMatchObject({ code: null, signal: 'SIGKILL' });
    expect(mem!.peakMiB).toBeGreaterThan(150);
    // The kill is dated when the sampler saw the tree over the limit, not later.
    expect(mem!.exit!.atMs).toBeGreaterThanOrEqual(mem!.timeline.at(-1)![0]);
    // The child went with the group.
    await sleep(100);
    expect(readProcMemory(tree.childPid)).toBeUndefined();
  });

  it('a SIGKILL whatbreaks did not send is `signal` (the OOM killer); one it sent on purpose is `nemesis`', async () => {
    const a = await startTree(0);
    const b = await startTree(1);
    const sampler = RssSampler.start([a.replica, b.replica], {
      clock,
      intervalMs: 20,
      stoppedOnPurpose: (id) => id === 1,
    });
    await sleep(60);
    killGroup(a.replica.pid, 'SIGKILL');
    killGroup(b.replica.pid, 'SIGKILL');
    await Promise.all([a.exited, b.exited]);
    const [ma, mb] = await sampler.stop();
    expect(ma).toMatchObject({ exit: { code: null, signal: 'SIGKILL' }, killedBy: 'signal' });
    expect(mb).toMatchObject({ exit: { code: null, signal: 'SIGKILL' }, killedBy: 'nemesis' });
    expect(ma!.timeline.length).toBeGreaterThan(0);
  });

  it('an exit with a code is recorded without a kill; a replica gone before the start is left alone', async () => {
    const gone = await startTree(0);
    const running = await startTree(1);
    killGroup(gone.replica.pid, 'SIGKILL');
    await gone.exited;
    const sampler = RssSampler.start([gone.replica, running.replica], { clock, intervalMs: 20 });
    await sleep(60);
    const exited = running.exited;
    // The root exits with code 3 (no answer comes back).
    running.write('exit 3');
    await exited;
    const [mg, mr] = await sampler.stop();
    expect(mg).toMatchObject({ timeline: [], peakMiB: 0 });
    expect(mg!.exit).toBeUndefined();
    expect(mr!.exit).toMatchObject({ code: 3, signal: null });
    expect(mr!.killedBy).toBeUndefined();
  });
});

describe('readProcMemory / procTree', () => {
  it('read this process, and nothing for a pid that does not exist', () => {
    const me = readProcMemory(process.pid)!;
    expect(me.rssKiB).toBeGreaterThan(1024);
    expect(me.hwmKiB).toBeGreaterThanOrEqual(me.rssKiB);
    expect(procTree(process.pid)![0]).toBe(process.pid);
    expect(readProcMemory(2 ** 22 + 1)).toBeUndefined();
  });
});
