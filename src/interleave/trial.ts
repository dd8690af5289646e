/**
 * One schedule, run: K requests whose every step is held at the PostgreSQL protocol proxy and released
 * one at a time in the order a `Chooser` picks.
 *
 * ```
 *  request ─► app ─► step held at the proxy ──(chosen)──► PostgreSQL ─► answer held ─► delivered ─► app …
 *                                                              └─ blocked on a lock (pg_blocking_pids)
 * ```
 *
 * The proxy holds both directions: steps (client → server) and answers (server → client). So at most one
 * request runs in the application at a time — the one just started or just handed an answer — and any
 * step that appears, on whichever pool connection, is that request's. Attribution therefore does not
 * depend on which connection the pool picked, and a replay does not either.
 *
 * Quiet: after a request is started or handed an answer, the scheduler waits until it has a held step,
 * has its HTTP response, or did nothing for `quietMs` (it is then `stalled`: waiting for a pool
 * connection, a timer, an upstream). After a step is released, it waits until every step in PostgreSQL
 * is answered or blocked on a lock another request's session holds (the probe asks `pg_blocking_pids`,
 * as PostgreSQL's isolationtester does), then hands the answers out one at a time: the chosen request's
 * first, then the others' by request index. A deadlock leaves every step blocked until PostgreSQL's
 * detector (`deadlock_timeout`) aborts one: its error is an outcome like any other.
 *
 * Attribution when a request is stalled (waiting for a pool connection) while another runs: see
 * `attribute`.
 *
 * A schedule that cannot run as written — a step nobody can own, a request stalled past
 * `stallTimeoutMs`, a step neither answered nor blocked within `stepTimeoutMs`, a choice the chooser
 * refuses (a replay that diverged) — ends the trial with `failed` set: it is `unknown`, never pass or fail.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PreparedRequest, RequestRecord } from '../load/types.js';
import type { BlockedProbe } from '../pgwire/blocked.js';
import { Gate, passThrough } from '../pgwire/gate.js';
import type { StartedPgProxy } from '../pgwire/proxy.js';
import type { Step } from '../pgwire/step.js';
import type { Chooser } from './explorer.js';
import { sendRequest } from './http-send.js';
import { type ChoicePoint, preemptions, scheduleId } from './schedule.js';
import { type StepRow, stepRow } from './step-row.js';

export interface ScheduleOptions {
  proxy: StartedPgProxy;
  probe: BlockedProbe;
  baseUrl: URL;
  requests: readonly PreparedRequest[];
  choose: Chooser;
  /** ms of no activity after which a running request counts as stalled. */
  quietMs: number;
  /** ms to wait, with nothing enabled, for a stalled or blocked request to move. */
  stallTimeoutMs: number;
  /** ms a released step may take to be answered or seen blocked. */
  stepTimeoutMs: number;
  /** ms since trial start. */
  clock: () => number;
  signal: AbortSignal;
}

export interface ScheduleRun {
  records: RequestRecord[];
  points: ChoicePoint[];
  /** `scheduleId(points' choices)`. */
  schedule: string;
  preemptions: number;
  steps: StepRow[];
  /** Why the schedule did not run as written (the trial is `unknown`). */
  failed?: string;
  /** How long the schedule took, ms. */
  durationMs: number;
}

type State = 'unstarted' | 'app' | 'held' | 'in-db' | 'blocked' | 'answered' | 'stalled' | 'done';

interface Req {
  index: number;
  state: State;
  step?: Step;
  record: RequestRecord;
  responded: boolean;
}

export async function runSchedule(o: ScheduleOptions): Promise<ScheduleRun> {
  const t0 = performance.now();
  const { proxy } = o;
  const reqs: Req[] = o.requests.map((r) => ({
    index: r.index,
    state: 'unstarted',
    record: { index: r.index, connection: r.index, sentAtMs: 0 },
    responded: false,
  }));
  const owner = new Map<number, Req>();
  const blockedSteps = new Set<number>();
  const released: { step: Step; request: number }[] = [];
  const points: ChoicePoint[] = [];
  let current: Req | undefined;
  let problem: string | undefined;
  const fail = (why: string) => {
    problem ??= why;
    notify();
  };

  const waiters = new Set<() => void>();
  const notify = () => {
    for (const w of waiters) w();
    waiters.clear();
  };
  /** Resolves true on the next change, false after `ms`. */
  const changed = (ms: number) =>
    new Promise<boolean>((resolve) => {
      const timer = setTimeout(
        () => {
          waiters.delete(wake);
          resolve(false);
        },
        Math.max(0, ms),
      );
      const wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
      waiters.add(wake);
    });
  const until = async (pred: () => boolean, ms: number): Promise<boolean> => {
    const deadline = performance.now() + ms;
    for (;;) {
      if (problem || o.signal.aborted) return false;
      if (pred()) return true;
      const left = deadline - performance.now();
      if (left <= 0) return false;
      await changed(left);
    }
  };

  /** The request that ran the last step on each connection. */
  const lastOnConnection = new Map<number, Req>();
  /** A step that arrived while two requests could have sent it (see `attribute`). */
  let pending: Step | undefined;
  const sqlOf = (step: Step) => step.statements.map((s) => s.text).join('; ');
  const unattributable = (step: Step, why: string) =>
    fail(`a step arrived that the scheduler cannot attribute (${why}): ${sqlOf(step)}`);

  /**
   * Who sent `step`: the request running in the application when it is the only one that can have (no
   * request stalled); else a stalled request when it is the only one; else, with a request running and
   * one stalled (waiting for a pool connection), the request that began the transaction the step's
   * connection is in (a pool does not hand a connection inside a transaction block to another request);
   * else `pending` — decided when the running request is quiet again (`settlePending`).
   */
  const attribute = (step: Step): Req | 'pending' | string => {
    const running = current?.state === 'app' ? current : undefined;
    const stalled = reqs.filter((r) => r.state === 'stalled');
    const could = [...(running ? [running] : []), ...stalled];
    if (could.length === 1) return could[0]!;
    if (could.length === 0) return 'no request was running in the application';
    const conn = proxy.connections().find((c) => c.id === step.connectionId);
    const last = lastOnConnection.get(step.connectionId);
    if ((conn?.txStatus === 'T' || conn?.txStatus === 'E') && last && could.includes(last)) return last;
    return running && stalled.length === 1
      ? 'pending'
      : `it could be any of requests ${could.map((r) => r.index).join(', ')}`;
  };
  const assign = (r: Req, step: Step) => {
    r.step = step;
    r.state = 'held';
    owner.set(step.id, r);
    lastOnConnection.set(step.connectionId, r);
    notify();
  };
  const onHeld = (step: Step) => {
    const r = attribute(step);
    if (r === 'pending') {
      if (pending) unattributable(step, 'two steps arrived while two requests could have sent them');
      else pending = step;
      notify();
    } else if (typeof r === 'string') unattributable(step, r);
    else assign(r, step);
  };
  /**
   * A pending step, once the request that was running is quiet: if it answered or has a step of its own,
   * the pending step is the stalled request's (a request waits for one step at a time); if it did nothing,
   * either could have sent it.
   */
  const settlePending = (running: Req) => {
    const step = pending;
    if (!step) return;
    pending = undefined;
    const stalled = reqs.filter((r) => r.state === 'stalled' && r !== running);
    if ((running.state === 'done' || running.state === 'held') && stalled.length === 1)
      assign(stalled[0]!, step);
    else unattributable(step, `request ${running.index} or a stalled request`);
  };
  const onDone = (step: Step) => {
    const r = owner.get(step.id);
    if (r && (r.state === 'in-db' || r.state === 'blocked')) {
      r.state = 'answered';
      notify();
    }
  };
  const onLost = (step: Step) => {
    if (owner.has(step.id))
      fail(`request ${owner.get(step.id)!.index}'s step was lost: the server connection closed`);
  };

  const savedGate = proxy.gate;
  proxy.gate = Gate.holdAll();
  proxy.holdAnswers = true;
  proxy.on('step-held', onHeld);
  proxy.on('step-done', onDone);
  proxy.on('step-lost', onLost);
  const responses: Promise<void>[] = [];

  /** Wait until `r` is quiet: a held step, its response, or stalled. */
  const quiet = async (r: Req) => {
    if (r.responded && r.state === 'app') r.state = 'done';
    const moved = await until(() => r.state !== 'app', o.quietMs);
    if (!moved && r.state === 'app') r.state = 'stalled';
    settlePending(r);
  };
  const start = async (r: Req) => {
    current = r;
    r.state = 'app';
    r.record.sentAtMs = o.clock();
    responses.push(
      sendRequest(o.baseUrl, o.requests[r.index]!, o.signal).then((res) => {
        Object.assign(r.record, res, { latencyMs: o.clock() - r.record.sentAtMs });
        r.responded = true;
        if (r.state === 'app' || r.state === 'stalled') r.state = 'done';
        notify();
      }),
    );
    await quiet(r);
  };
  const deliver = async (r: Req) => {
    proxy.deliverAnswers(r.step!.connectionId);
    r.step = undefined;
    current = r;
    r.state = 'app';
    await quiet(r);
  };
  /** Wait until every released step is answered or blocked. */
  const settle = async (): Promise<boolean> => {
    const deadline = performance.now() + o.stepTimeoutMs;
    let first = true;
    for (;;) {
      if (problem || o.signal.aborted) return false;
      const inDb = () => reqs.filter((r) => r.state === 'in-db' || r.state === 'blocked');
      if (inDb().length === 0) return true;
      // Most steps answer within a ms: give them that before asking PostgreSQL.
      if (first) {
        first = false;
        await until(() => inDb().every((r) => r.state === 'blocked'), 2);
        continue;
      }
      const asked = inDb();
      const among = proxy.connections().flatMap((c) => (c.backendPid ? [c.backendPid] : []));
      const states = await o.probe.check(
        asked.map((r) => r.step!.backendPid ?? -1),
        among,
      );
      for (const r of asked) {
        if (r.state !== 'in-db' && r.state !== 'blocked') continue; // answered meanwhile
        const blocked = states.get(r.step!.backendPid ?? -1)?.blocked ?? false;
        r.state = blocked ? 'blocked' : 'in-db';
        if (blocked) blockedSteps.add(r.step!.id);
      }
      if (inDb().every((r) => r.state === 'blocked')) return true;
      const left = deadline - performance.now();
      if (left <= 0) {
        const slow = inDb().filter((r) => r.state === 'in-db');
        fail(
          `request ${slow.map((r) => r.index).join(', ')}'s step was neither answered nor blocked within stepTimeoutMs ${o.stepTimeoutMs} ms: ${slow.map((r) => r.step!.statements.map((s) => s.text).join('; ')).join(' | ')}`,
        );
        return false;
      }
      await changed(Math.min(5, left));
    }
  };
  const deliverAnswered = async (chosen: number | undefined) => {
    for (;;) {
      if (problem) return;
      const answered = reqs.filter((r) => r.state === 'answered');
      if (answered.length === 0) return;
      const next = answered.find((r) => r.index === chosen) ?? answered[0]!;
      await deliver(next);
    }
  };

  try {
    for (const r of reqs) {
      if (problem) break;
      await start(r);
    }
    while (!problem && !o.signal.aborted) {
      const open = reqs.filter((r) => r.state !== 'done');
      if (open.length === 0) break;
      const enabled = reqs.filter((r) => r.state === 'held').map((r) => r.index);
      if (enabled.length === 0) {
        // Nothing to choose: a blocked step waits for PostgreSQL (a deadlock, until its detector runs),
        // a stalled request for its pool, timer or upstream.
        const before = open.map((r) => r.state).join();
        const moved = await until(() => open.map((r) => r.state).join() !== before, o.stallTimeoutMs);
        if (!moved) {
          fail(
            `nothing could run for ${o.stallTimeoutMs} ms: ${open.map((r) => `request ${r.index} ${r.state}`).join(', ')}`,
          );
          break;
        }
        if (!(await settle())) break;
        await deliverAnswered(undefined);
        continue;
      }
      const k = points.length;
      const choice = o.choose(k, enabled, points);
      if (typeof choice === 'string') {
        fail(`the schedule cannot go on: ${choice}`);
        break;
      }
      points.push({ enabled, chosen: choice });
      const r = reqs[choice]!;
      const step = r.step!;
      r.state = 'in-db';
      released.push({ step, request: r.index });
      proxy.release(step);
      if (!(await settle())) break;
      await deliverAnswered(choice);
    }
  } finally {
    proxy.off('step-held', onHeld);
    proxy.off('step-done', onDone);
    proxy.off('step-lost', onLost);
    // Let everything go, so the requests finish before the next trial's reset.
    proxy.gate = savedGate === undefined ? passThrough : savedGate;
    proxy.holdAnswers = false;
    proxy.releaseAll();
    for (const c of proxy.connections()) proxy.deliverAnswers(c.id);
    await Promise.race([
      Promise.all(responses),
      sleep(Math.max(o.stallTimeoutMs, 5_000), undefined, { ref: false }),
    ]);
  }
  if (o.signal.aborted) problem ??= 'interrupted';
  for (const r of reqs) if (!r.responded && !r.record.error) r.record.error = 'no response';
  return {
    records: reqs.map((r) => r.record),
    points,
    schedule: scheduleId(points.map((p) => p.chosen)),
    preemptions: preemptions(points),
    steps: released.map(({ step, request }, i) => stepRow(step, i + 1, request, blockedSteps.has(step.id))),
    ...(problem ? { failed: problem } : {}),
    durationMs: performance.now() - t0,
  };
}
