import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import pidtree from 'pidtree';
import { killGroup } from '../env/teardown.js';
import type { Replica } from '../env/types.js';

/**
 * Resident memory of each target replica during a trial, from outside the target (Linux `/proc`).
 *
 *   whatbreaks ──every 50 ms──► /proc/<pid>/task/<tid>/children, recursively: the replica's tree
 *                                (`sh -c` wrapper, node, workers it forks)
 *                             └─► /proc/<pid>/status (VmRSS, VmHWM) for every pid of the tree
 *
 * - RSS of a replica = sum of VmRSS over its process tree (kB → MiB). The tree comes from the kernel's
 *   `children` files, read synchronously at every sample (a few µs). `pidtree` is the fallback on
 *   kernels without them (CONFIG_PROC_CHILDREN), refreshed every 250 ms: it runs `ps`, and spawning a
 *   process blocks our event loop for tens of ms (measured: 34 ms of send lag in the open model), so
 *   it is not used where the kernel can tell us directly.
 * - Spikes between two samples: at start, `5` is written to `/proc/<pid>/clear_refs` (resets the
 *   kernel's peak-RSS mark, VmHWM), and the largest single-process VmHWM seen counts toward the peak as
 *   well. Both are lower bounds of the tree's true peak; the larger one is reported.
 * - Exits: a replica whose process exits during the trial is recorded with its code or signal and the
 *   moment it was noticed. A SIGKILL not sent by whatbreaks is the kernel's OOM killer or another
 *   enforced limit (`killedBy: 'signal'`). A replica whatbreaks stopped on purpose (a `kill-replica` or
 *   `restart-replica` nemesis: `stoppedOnPurpose`) is `killedBy: 'nemesis'`, whatever the signal.
 * - Enforced limit (`limitMiB`): the sampler is also a user-space OOM killer (like earlyoom or
 *   systemd-oomd): a replica whose tree RSS exceeds `limitMiB` at a sample gets SIGKILL on its process
 *   group (`killedBy: 'limit'`). Used when no kernel limit is available: on this kind of machine the
 *   cgroup v2 hierarchy has no memory controller, the v1 memory hierarchy belongs to the sandbox that
 *   runs us, and `prlimit --as` limits address space, not RSS (V8 reserves gigabytes of it up front, and
 *   hitting it makes allocations fail inside Node rather than getting the process killed). Overshoot is
 *   bounded by what the target allocates in one sampling interval.
 *
 * Times are ms on the trial clock; memory in MiB (2^20 bytes).
 */
export interface ReplicaMemory {
  /** Replica id (`INSTANCE_ID`). */
  replica: number;
  pid: number | undefined;
  /** Highest RSS seen, MiB (see above for how spikes between samples are caught). */
  peakMiB: number;
  /** Moment of the highest sampled RSS, ms on the trial clock. */
  peakAtMs: number;
  /** `[tMs, MiB]` per sample. */
  timeline: [number, number][];
  /** Set when the replica's process exited during sampling. */
  exit?: { code: number | null; signal: NodeJS.Signals | null; atMs: number };
  /**
   * `limit`: killed by the enforced limit; `signal`: killed by a SIGKILL whatbreaks did not send (the OOM
   * killer?); `nemesis`: stopped on purpose by a fault, by any signal (not a finding about its memory).
   */
  killedBy?: 'limit' | 'signal' | 'nemesis';
}

export interface RssSamplerOptions {
  /** Trial clock, ms. */
  clock: () => number;
  /** Sampling period, ms. */
  intervalMs?: number;
  /** Period of process-tree refreshes, ms. */
  treeRefreshMs?: number;
  /** Enforced limit per replica: SIGKILL its process group when its tree RSS exceeds this, MiB. */
  limitMiB?: number;
  /**
   * How to kill replica `id` for the limit; default SIGKILL to its process group. The run passes the
   * environment's `killReplica`, so the environment knows the kill was on purpose and restarts it.
   */
  kill?: (id: number) => void;
  /**
   * True when replica `id`'s process was stopped on purpose by whatbreaks (a nemesis killed or restarted
   * it), asked when its exit is noticed; default never.
   */
  stoppedOnPurpose?: (id: number) => boolean;
}

const KIB_PER_MIB = 1024;

/** `VmRSS` and `VmHWM` of one process, KiB; undefined when it is gone or a zombie. */
export function readProcMemory(pid: number): { rssKiB: number; hwmKiB: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'latin1');
  } catch {
    return undefined;
  }
  const rss = /^VmRSS:\s+(\d+) kB/m.exec(text);
  const hwm = /^VmHWM:\s+(\d+) kB/m.exec(text);
  if (!rss) return undefined;
  return { rssKiB: Number(rss[1]), hwmKiB: hwm ? Number(hwm[1]) : 0 };
}

/** The pids of `root`'s process tree (root first) from `/proc/<pid>/task/<tid>/children`; undefined when unsupported. */
export function procTree(root: number): number[] | undefined {
  const out: number[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    out.push(pid);
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tasks) {
      let text: string;
      try {
        text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'latin1');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' && pid === root && tid === String(root)) {
          return existsSync(`/proc/${root}`) ? undefined : out;
        }
        continue;
      }
      for (const child of text.split(' ')) if (child.trim()) stack.push(Number(child));
    }
  }
  return out;
}

function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

interface Tracked {
  replica: Replica;
  pids: number[];
  /** pids whose VmHWM was reset at start (their HWM is a peak within this trial). */
  hwmReset: Set<number>;
  mem: ReplicaMemory;
  exitedBefore: boolean;
  limitKillAtMs?: number;
}

export class RssSampler {
  private readonly tracked: Tracked[];
  private readonly timer: NodeJS.Timeout;
  private readonly treeTimer: NodeJS.Timeout;
  private refreshing = false;
  private readonly useProc: boolean;

  private constructor(
    replicas: readonly Replica[],
    private readonly opts: Required<Omit<RssSamplerOptions, 'limitMiB'>> & { limitMiB?: number },
  ) {
    this.tracked = replicas.map((replica) => {
      const pids = replica.pid ? [replica.pid] : [];
      return {
        replica,
        pids,
        hwmReset: new Set(pids.filter(resetPeak)),
        exitedBefore: replica.exit !== undefined,
        mem: { replica: replica.id, pid: replica.pid, peakMiB: 0, peakAtMs: 0, timeline: [] },
      };
    });
    this.useProc = this.readTrees();
    if (!this.useProc) void this.refreshTrees();
    this.sample();
    this.timer = setInterval(() => this.sample(), opts.intervalMs);
    this.treeTimer = setInterval(() => {
      if (!this.useProc) void this.refreshTrees();
    }, opts.treeRefreshMs);
  }

  /** Start sampling `replicas` now. */
  static start(replicas: readonly Replica[], opts: RssSamplerOptions): RssSampler {
    const byId = new Map(replicas.map((r) => [r.id, r]));
    return new RssSampler(replicas, {
      intervalMs: 50,
      treeRefreshMs: 250,
      ...opts,
      kill: opts.kill ?? ((id) => killGroup(byId.get(id)?.pid, 'SIGKILL')),
      stoppedOnPurpose: opts.stoppedOnPurpose ?? (() => false),
    });
  }

  /** Refresh the trees from /proc; returns false when the kernel lacks `children` files. */
  private readTrees(): boolean {
    for (const t of this.tracked) {
      const root = t.replica.pid;
      if (!root || t.replica.exit) continue;
      const pids = procTree(root);
      if (!pids) return false;
      for (const p of pids) if (!t.pids.includes(p) && resetPeak(p)) t.hwmReset.add(p);
      t.pids = pids;
    }
    return true;
  }

  private async refreshTrees(): Promise<void> {
    if (this.refreshing) return;
    this.refreshing = true;
    try {
      for (const t of this.tracked) {
        const root = t.replica.pid;
        if (!root || t.replica.exit) continue;
        try {
          const pids = await pidtree(root, { root: true });
          for (const p of pids) if (!t.pids.includes(p) && resetPeak(p)) t.hwmReset.add(p);
          t.pids = pids;
        } catch {
          // The root is gone (pidtree rejects): its exit is picked up by `sample`.
        }
      }
    } finally {
      this.refreshing = false;
    }
  }

  private sample(): void {
    if (this.useProc) this.readTrees();
    const now = this.opts.clock();
    for (const t of this.tracked) {
      if (t.exitedBefore) continue;
      this.noteExit(t, now);
      if (t.mem.exit) continue;
      let rssKiB = 0;
      let hwmKiB = 0;
      let alive = 0;
      for (const pid of t.pids) {
        const m = readProcMemory(pid);
        if (!m) continue;
        alive++;
        rssKiB += m.rssKiB;
        if (t.hwmReset.has(pid)) hwmKiB = Math.max(hwmKiB, m.hwmKiB);
      }
      if (alive === 0) continue;
      const mib = round1(rssKiB / KIB_PER_MIB);
      t.mem.timeline.push([round1(now), mib]);
      if (mib > t.mem.peakMiB) {
        t.mem.peakMiB = mib;
        t.mem.peakAtMs = round1(now);
      }
      t.mem.peakMiB = Math.max(t.mem.peakMiB, round1(hwmKiB / KIB_PER_MIB));
      const limit = this.opts.limitMiB;
      if (limit !== undefined && mib > limit && t.limitKillAtMs === undefined) {
        t.limitKillAtMs = round1(now);
        this.opts.kill(t.replica.id);
      }
    }
  }

  private noteExit(t: Tracked, now: number): void {
    const exit = t.replica.exit;
    if (!exit || t.mem.exit) return;
    t.mem.exit = { ...exit, atMs: round1(t.limitKillAtMs ?? now) };
    if (t.limitKillAtMs !== undefined && exit.signal === 'SIGKILL') t.mem.killedBy = 'limit';
    else if (exit.signal && this.opts.stoppedOnPurpose(t.replica.id)) t.mem.killedBy = 'nemesis';
    else if (exit.signal === 'SIGKILL') t.mem.killedBy = 'signal';
  }

  /**
   * Stop sampling and return one entry per replica. A process that is gone but whose exit has not been
   * reported yet (the `exit` event comes a moment after the kill) is waited for up to `exitWaitMs`.
   */
  async stop(exitWaitMs = 1_000): Promise<ReplicaMemory[]> {
    this.sample();
    clearInterval(this.timer);
    clearInterval(this.treeTimer);
    const deadline = performance.now() + exitWaitMs;
    for (const t of this.tracked) {
      const pid = t.replica.pid;
      while (pid && !t.replica.exit && !readProcMemory(pid) && performance.now() < deadline) {
        await new Promise((r) => setTimeout(r, 10));
      }
      if (!t.exitedBefore) this.noteExit(t, this.opts.clock());
    }
    return this.tracked.map((t) => t.mem);
  }
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
