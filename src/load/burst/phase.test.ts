import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { BurstFailure } from './burst-failure.js';
import { runPhase } from './phase.js';
import { ConnectionFailure } from './raw-http1.js';

describe('runPhase', () => {
  it('resolves with the work when it finishes in time', async () => {
    await expect(runPhase('warm-up', 1_000, Promise.resolve(7), { progress: () => 'x' })).resolves.toBe(7);
  });

  it('times out naming the phase, the progress reached then, and the deadline; with the timeout hint', async () => {
    let done = 0;
    const work = (async () => {
      done = 120;
      await sleep(10_000);
    })();
    const err = await runPhase('pre-send', 50, work, {
      progress: () => `${done}/200 requests pre-sent`,
      timeoutHint: 'try something else',
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BurstFailure);
    expect(err).toMatchObject({
      code: 'TIMEOUT',
      message: 'in pre-send: 120/200 requests pre-sent after 50 ms',
      hint: 'try something else',
      phase: 'pre-send',
    });
  });

  it("wraps a connection's failure: its code kept, the phase and progress added, the hint by code", async () => {
    const err = await runPhase(
      'warm-up',
      1_000,
      Promise.reject(new ConnectionFailure('ECONNREFUSED', 'connect to http://127.0.0.1:1: refused')),
      { progress: () => '0/6 connections open', failureHint: (code) => `hint for ${code}` },
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'ECONNREFUSED',
      message: 'in warm-up: connect to http://127.0.0.1:1: refused (0/6 connections open)',
      hint: 'hint for ECONNREFUSED',
      phase: 'warm-up',
    });
    // A failure whose message is only its code does not repeat it.
    const bare = await runPhase('connect', 1_000, Promise.reject(new ConnectionFailure('SOCKET_CLOSED')), {
      progress: () => '3/6 connections open',
    }).catch((e: unknown) => e);
    expect(bare).toMatchObject({
      code: 'SOCKET_CLOSED',
      message: 'in connect: SOCKET_CLOSED (3/6 connections open)',
    });
  });

  it('passes a BurstFailure that already names its phase through unchanged', async () => {
    const own = new BurstFailure('WARMUP_NOT_KEEPALIVE', 'in warm-up: closed', 'set warmup: auto', 'warm-up');
    await expect(runPhase('warm-up', 1_000, Promise.reject(own), { progress: () => 'x' })).rejects.toBe(own);
  });

  it('swallows a rejection of the work after the deadline (no unhandled rejection)', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      const work = sleep(60).then(() => {
        throw new Error('late');
      });
      await expect(runPhase('connect', 10, work, { progress: () => 'x' })).rejects.toMatchObject({
        code: 'TIMEOUT',
      });
      await sleep(100);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
