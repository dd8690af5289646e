import { afterEach, describe, expect, it, vi } from 'vitest';
import { type RawTarget, rawTarget } from '../../../test/fixtures/burst/raw-target.js';
import type { PreparedRequest } from '../types.js';
import { barrier } from './barrier.js';
import { BurstFailure } from './burst-failure.js';
import type { SenderOptions } from './sender.js';

const requests = (n: number): PreparedRequest[] =>
  Array.from({ length: n }, (_, i) => ({
    index: i,
    method: 'POST',
    path: `/r/${i}`,
    headers: {},
    body: Buffer.from(`{"n":${i}}`),
  }));

const options = (url: URL, over: Partial<SenderOptions> = {}): SenderOptions => ({
  baseUrl: url,
  clock: () => performance.now(),
  timeoutMs: 5_000,
  warmupPath: '/warm',
  holdMs: 0,
  streamsPerConnection: 25,
  ...over,
});

async function burst(opts: SenderOptions, n: number) {
  const sender = barrier(opts);
  try {
    await sender.prepare(requests(n));
    return await sender.release();
  } finally {
    await sender.close();
  }
}

const bodies = (n: number) => requests(n).map((r) => [r.index, 200, r.path]);

describe('barrier sender', () => {
  let target: RawTarget | undefined;
  afterEach(async () => {
    await target?.close();
    target = undefined;
  });

  it('keep-alive target: each request travels on the connection its warm-up opened', async () => {
    target = await rawTarget({ warmupPath: '/warm' });
    const outcome = await burst(options(target.url), 8);
    expect(outcome.records.map((r) => [r.index, r.status, r.body])).toEqual(bodies(8));
    expect(target.accepted()).toBe(8);
    const warmed = target.events.filter((e) => e.kind === 'warmup-received').map((e) => e.conn);
    const used = target.events.filter((e) => e.kind === 'request').map((e) => e.conn);
    expect(new Set(used)).toEqual(new Set(warmed));
    expect(outcome.warnings).toEqual([]);
  });

  it.each(['auto', 'off'] as const)(
    'warmup %s on a target that closes after each response: every connection is open before the burst',
    async (warmup) => {
      target = await rawTarget({ warmupPath: '/warm', warmup: () => 'close' });
      const t = target;
      const sender = barrier(options(t.url, { warmup }));
      try {
        await sender.prepare(requests(8));
        const warmedConns = new Set(t.events.filter((e) => e.kind === 'warmup-received').map((e) => e.conn));
        // The server (in this process) may accept a little after the client saw its connection open.
        await vi.waitFor(() => expect(t.accepted()).toBe(warmedConns.size + 8));
        const outcome = await sender.release();
        expect(outcome.records.map((r) => [r.index, r.status, r.body])).toEqual(bodies(8));
        // Connection setup is not inside the burst: the release opened no connection.
        expect(t.accepted()).toBe(warmedConns.size + 8);
        for (const e of t.events.filter((e) => e.kind === 'request'))
          expect(warmedConns.has(e.conn)).toBe(false);
        if (warmup === 'auto') {
          expect(warmedConns.size).toBeLessThanOrEqual(4); // no more warm-ups once one closed
          expect(outcome.warnings).toEqual([
            'the target closes the connection after GET /warm (no keep-alive): 8/8 requests were sent on fresh connections opened before the burst, without a warm-up',
          ]);
        } else {
          expect(warmedConns.size).toBe(0);
          expect(outcome.warnings).toEqual([]);
        }
      } finally {
        await sender.close();
      }
    },
  );

  it('warmup on: a target that closes after the warm-up fails with WARMUP_NOT_KEEPALIVE and a hint', async () => {
    target = await rawTarget({ warmupPath: '/warm', warmup: () => 'close' });
    const err = await burst(options(target.url, { warmup: 'on' }), 4).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BurstFailure);
    expect(err).toMatchObject({
      code: 'WARMUP_NOT_KEEPALIVE',
      phase: 'warm-up',
      message: 'in warm-up: the target closed 4/4 connections after GET /warm (no keep-alive)',
      hint: expect.stringContaining('load.warmup: auto'),
    });
  });

  it('a warm-up that never comes back: TIMEOUT naming the phase and the counts', async () => {
    target = await rawTarget({ warmupPath: '/warm', warmup: (k) => (k >= 5 ? 'never' : 'keep-alive') });
    const err = await burst(options(target.url, { timeoutMs: 400 }), 6).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'TIMEOUT',
      phase: 'warm-up',
      message: 'in warm-up: 6/6 connections open, 5/6 warm-ups (GET /warm) answered after 400 ms',
    });
  });
});
