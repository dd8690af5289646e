/**
 * Calls back at a due time on a millisecond clock, to a small fraction of a millisecond, without
 * blocking the event loop: `setTimeout` until `SPIN_MS` before the due time (Node's timers have 1 ms
 * resolution and may fire up to 1 ms early or late), then `setImmediate` turns until it is due. Each turn
 * goes through the event loop's poll phase, so responses keep being read while it waits.
 *
 * The price is CPU: while a due time is less than `SPIN_MS` away the thread stays busy, so at 500 req/s
 * and above a schedule keeps one core busy, and each turn leaves Node about 400 bytes of short-lived
 * garbage (its `Immediate` and bookkeeping; scavenges of about 0.5 ms, a few dozen a second). Measured
 * on a 2-vCPU VM at 2,000 req/s, this still kept the send lag lower than sleeping in the poll until a
 * helper thread (`Atomics.wait`, µs resolution) woke the loop with `postMessage` at the due time: p99
 * 0.53–1.10 ms against 1.06–1.51 ms over three 10 s runs each, because every such wake-up needs the OS
 * to give two sleeping threads a CPU, and on a small machine shared with the target that wait has a
 * tail of milliseconds. wrk2 and k6 (Go timers) sleep in their event loop; this one keeps it turning.
 *
 * One pending callback at a time; arming again replaces it.
 */
export class DueTimer {
  /** How long before the due time the timer stops sleeping and starts turning, ms. */
  static readonly SPIN_MS = 2;
  readonly #clock: () => number;
  #dueMs = 0;
  #callback: (() => void) | undefined;
  #sleep: NodeJS.Timeout | undefined;
  /** A `setImmediate(#turn)` is pending. */
  #turning = false;
  readonly #turn = () => {
    this.#turning = false;
    const cb = this.#callback;
    if (!cb || this.#sleep) return;
    if (this.#clock() < this.#dueMs) {
      this.#spin();
      return;
    }
    this.#callback = undefined;
    cb();
  };
  readonly #wake = () => {
    this.#sleep = undefined;
    this.#turn();
  };

  /** `clock`: milliseconds, the same clock the due times are on. */
  constructor(clock: () => number) {
    this.#clock = clock;
  }

  /** Call `cb` once, as soon as `clock() ≥ dueMs`. Replaces a pending callback. */
  at(dueMs: number, cb: () => void): void {
    this.#dueMs = dueMs;
    this.#callback = cb;
    if (this.#sleep) clearTimeout(this.#sleep);
    this.#sleep = undefined;
    const aheadMs = dueMs - this.#clock();
    if (aheadMs > DueTimer.SPIN_MS + 1) this.#sleep = setTimeout(this.#wake, aheadMs - DueTimer.SPIN_MS);
    else this.#spin();
  }

  #spin(): void {
    if (this.#turning) return;
    this.#turning = true;
    setImmediate(this.#turn);
  }

  /** Forget the pending callback, if any. */
  cancel(): void {
    this.#callback = undefined;
    if (this.#sleep) clearTimeout(this.#sleep);
    this.#sleep = undefined;
  }
}
