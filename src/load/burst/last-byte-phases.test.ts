import { afterEach, describe, expect, it } from 'vitest';
import { type RawTarget, rawTarget } from '../../../test/fixtures/burst/raw-target.js';
import type { PreparedRequest } from '../types.js';
import { BurstFailure } from './burst-failure.js';
import { lastByte } from './last-byte.js';
import type { SenderOptions } from './sender.js';

// Release threads run the built worker (`dist/src/load/burst/last-byte-worker.js`: `npm test` builds).

const requests = (n: number): PreparedRequest[] =>
  Array.from({ length: n }, (_, i) => ({
    index: i,
    method: i % 2 ? 'GET' : 'POST',
    path: `/r/${i}`,
    headers: {},
    body: i % 2 ? undefined : Buffer.from(`{"n":${i}}`),
  }));

const options = (url: URL, over: Partial<SenderOptions> = {}): SenderOptions => ({
  baseUrl: url,
  clock: () => performance.now(),
  timeoutMs: 5_000,
  warmupPath: '/warm',
  holdMs: 20,
  streamsPerConnection: 25,
  releaseThreads: 1,
  ...over,
});

/** Prepare and release a burst; the records, or the error `prepare` threw. */
async function burst(opts: SenderOptions, n: number) {
  const sender = lastByte(opts);
  try {
    await sender.prepare(requests(n));
    return await sender.release();
  } finally {
    await sender.close();
  }
}

const bodies = (n: number) => requests(n).map((r) => [r.index, 200, r.path]);

describe('last-byte: a target that does not keep connections alive', () => {
  let target: RawTarget | undefined;
  afterEach(async () => {
    await target?.close();
    target = undefined;
  });

  it.each([1, 2])(
    'warmup auto: pre-sends on fresh connections, warms no more once one closed, says so (%i release threads)',
    async (releaseThreads) => {
      target = await rawTarget({ warmupPath: '/warm', warmup: () => 'close' });
      const outcome = await burst(options(target.url, { releaseThreads }), 12);
      expect(outcome.records.map((r) => [r.index, r.status, r.body])).toEqual(bodies(12));
      // Each request came on a connection that carried no warm-up.
      const warmedConns = new Set(
        target.events.filter((e) => e.kind === 'warmup-received').map((e) => e.conn),
      );
      for (const e of target.events.filter((e) => e.kind === 'request'))
        expect(warmedConns.has(e.conn)).toBe(false);
      // Warming stops once a warm-up showed the target closing: at most the connections then in flight.
      expect(warmedConns.size).toBeLessThanOrEqual(4);
      expect(outcome.warnings).toEqual([
        'the target closes the connection after GET /warm (no keep-alive): 12/12 requests were pre-sent on fresh connections, without a warm-up',
      ]);
    },
  );

  it('warmup on: fails in warm-up with WARMUP_NOT_KEEPALIVE and a hint naming warmup: auto', async () => {
    target = await rawTarget({ warmupPath: '/warm', warmup: () => 'close' });
    const err = await burst(options(target.url, { warmup: 'on' }), 4).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BurstFailure);
    expect(err).toMatchObject({
      code: 'WARMUP_NOT_KEEPALIVE',
      phase: 'warm-up',
      message: 'in warm-up: the target closes the connection after GET /warm (200, no keep-alive)',
      hint: expect.stringContaining('load.warmup: auto'),
    });
  });

  it('warmup off: no warm-up request at all, no warning', async () => {
    target = await rawTarget({ warmupPath: '/warm' });
    const outcome = await burst(options(target.url, { warmup: 'off', releaseThreads: 2 }), 6);
    expect(outcome.records.map((r) => [r.index, r.status, r.body])).toEqual(bodies(6));
    expect(target.events.filter((e) => e.kind === 'warmup-received')).toEqual([]);
    expect(outcome.warnings).toEqual([]);
  });

  it('a keep-alive timeout shorter than the warm-up phase: auto replaces the closed connections, on fails in pre-send', async () => {
    // The last warm-up is answered 300 ms late; the others' connections close after 50 ms idle.
    const behaviour = {
      warmupPath: '/warm',
      warmup: (k: number) => (k === 5 ? 300 : 'keep-alive'),
      idleCloseMs: 50,
    } as const;
    target = await rawTarget(behaviour);
    const outcome = await burst(options(target.url), 6);
    expect(outcome.records.map((r) => [r.index, r.status, r.body])).toEqual(bodies(6));
    expect(outcome.warnings).toEqual([
      expect.stringMatching(
        /^the target closed connections after their warm-up: [1-5]\/6 requests were pre-sent on fresh connections/,
      ),
    ]);
    await target.close();
    target = await rawTarget(behaviour);
    await expect(burst(options(target.url, { warmup: 'on' }), 6)).rejects.toMatchObject({
      code: 'WARMUP_NOT_KEEPALIVE',
      phase: 'pre-send',
      hint: expect.stringContaining('load.warmup: auto'),
    });
  });
});

describe('last-byte: phases', () => {
  let target: RawTarget | undefined;
  afterEach(async () => {
    await target?.close();
    target = undefined;
  });

  it('no share pre-sends before every share is warm (3 release threads, the last warm-ups answered late)', async () => {
    target = await rawTarget({ warmupPath: '/warm', warmup: (k) => (k >= 9 ? 300 : 'keep-alive') });
    const outcome = await burst(options(target.url, { releaseThreads: 3 }), 12);
    expect(outcome.records.map((r) => [r.index, r.status, r.body])).toEqual(bodies(12));
    const firstPresend = target.events.findIndex((e) => e.kind === 'request-bytes');
    const answered = target.events.slice(0, firstPresend).filter((e) => e.kind === 'warmup-answered');
    expect(answered).toHaveLength(12);
  });

  it.each([1, 2])(
    'a warm-up that never comes back: TIMEOUT naming the phase and the counts over every share (%i release threads)',
    async (releaseThreads) => {
      target = await rawTarget({ warmupPath: '/warm', warmup: (k) => (k >= 4 ? 'never' : 'keep-alive') });
      const err = await burst(options(target.url, { releaseThreads, timeoutMs: 400 }), 6).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(BurstFailure);
      expect(err).toMatchObject({
        code: 'TIMEOUT',
        phase: 'warm-up',
        message: 'in warm-up: 6/6 connections open, 4/6 warm-ups (GET /warm) answered after 400 ms',
        hint: expect.stringContaining('load.warmup: off'),
      });
    },
  );

  it.each([
    [
      'closes',
      'close',
      /^in hold: the target closed 6 of 6 pre-sent requests within holdMs 20 ms, before their final byte$/,
    ],
    [
      'answers 400 to',
      'answer-400',
      /^in hold: the target answered 6 \(400×6\) of 6 pre-sent requests within holdMs 20 ms/,
    ],
  ] as const)(
    'a target that %s a partial request during the hold: PRESEND_REJECTED, hint naming sync: barrier',
    async (_what, onPartial, message) => {
      target = await rawTarget({ warmupPath: '/warm', onPartial });
      const err = await burst(options(target.url, { releaseThreads: 2, holdMs: 100 }), 6).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(BurstFailure);
      expect(err).toMatchObject({
        code: 'PRESEND_REJECTED',
        phase: 'hold',
        hint: expect.stringContaining('sync: barrier'),
      });
      expect((err as Error).message.replace('holdMs 100', 'holdMs 20')).toMatch(message);
    },
  );

  it('a refused connection fails the first phase with its errno code, named', async () => {
    target = await rawTarget({ warmupPath: '/warm' });
    const url = target.url;
    await target.close();
    target = undefined;
    await expect(burst(options(url), 3)).rejects.toMatchObject({
      code: 'ECONNREFUSED',
      phase: 'warm-up',
      message: expect.stringMatching(
        /^in warm-up: connect to .*ECONNREFUSED.*\(0\/3 connections open, 0\/3 warm-ups/,
      ),
    });
  });
});
