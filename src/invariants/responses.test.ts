import { describe, expect, it } from 'vitest';
import type { LoadResult, RequestRecord } from '../load/types.js';
import { config, create } from './responses.js';
import type { QueryableDatabase, TrialObservation } from './types.js';

/** No invariant here may touch the database: a query is a bug. */
const noDb: QueryableDatabase = {
  query: () => Promise.reject(new Error('responses must not query the database')),
};

/** One record per entry: a status, or `error` for a request that got no response. */
function records(statuses: (number | 'error')[]): RequestRecord[] {
  return statuses.map((s, index) => ({
    index,
    connection: index,
    sentAtMs: index * 0.01,
    ...(s === 'error' ? { error: 'ECONNRESET' } : { status: s, latencyMs: 5, body: `{"n":${index}}` }),
  }));
}

function trial(statuses: (number | 'error')[]): TrialObservation {
  const load: LoadResult = {
    kind: 'burst',
    records: records(statuses),
    startedAtMs: 0,
    durationMs: 10,
    warnings: [],
  };
  return { trial: 1, db: noDb, load };
}

async function check(block: Record<string, unknown>, statuses: (number | 'error')[]) {
  const cfg = config.parse({ type: 'responses', name: 'r', ...block });
  return create(cfg).check(trial(statuses));
}

const times = (n: number, s: number | 'error') => Array.from({ length: n }, () => s);

describe('responses: allowed', () => {
  it('holds when every status is allowed', async () => {
    const r = await check({ allowed: [200, 409] }, [200, ...times(19, 409)]);
    expect(r).toMatchObject({ holds: true, witnesses: [], witnessCount: 0 });
    expect(r.summary).toBe('20 responses as expected');
  });

  it('alone catches a 5xx, naming the request', async () => {
    const r = await check({ allowed: [200, 409] }, [200, 409, 500, 409]);
    expect(r.holds).toBe(false);
    expect(r.summary).toBe('1× 500 not in allowed [200, 409]');
    expect(r.witnesses).toEqual([
      {
        rule: 'allowed',
        request: 2,
        connection: 2,
        status: 500,
        error: null,
        sentAtMs: 0.02,
        body: '{"n":2}',
      },
    ]);
    expect(r.witnessCount).toBe(1);
  });

  it('a request without a response is `error`, not allowed unless listed', async () => {
    const r = await check({ allowed: [200] }, [200, 'error']);
    expect(r.holds).toBe(false);
    expect(r.summary).toBe('1× error not in allowed [200]');
    expect(r.witnesses[0]).toMatchObject({ request: 1, status: null, error: 'ECONNRESET' });
    expect((await check({ allowed: [200, 'error'] }, [200, 'error'])).holds).toBe(true);
  });

  it('counts each status it did not allow', async () => {
    const r = await check({ allowed: [201] }, [201, 500, 503, 500, 'error']);
    expect(r.summary).toBe('2× 500, 1× 503, 1× error not in allowed [201]');
    expect(r.witnessCount).toBe(4);
  });
});

describe('responses: counts', () => {
  it('alone catches a 5xx (class bound), naming the request', async () => {
    const r = await check({ counts: { '5xx': { max: 0 } } }, [200, 409, 502]);
    expect(r.holds).toBe(false);
    expect(r.summary).toBe('1× 5xx, expected at most 0');
    expect(r.witnesses).toEqual([expect.objectContaining({ rule: 'counts.5xx', request: 2, status: 502 })]);
  });

  it('exactly: too many names the extra responses; too few names none (there is nothing to point at)', async () => {
    const many = await check({ counts: { '2xx': { exactly: 1 } } }, [200, 201, 409]);
    expect(many.holds).toBe(false);
    expect(many.summary).toBe('2× 2xx, expected exactly 1');
    expect(many.witnesses.map((w) => w.request)).toEqual([0, 1]);
    const few = await check({ counts: { '2xx': { exactly: 1 } } }, [409, 409]);
    expect(few.holds).toBe(false);
    expect(few.summary).toBe('0× 2xx, expected exactly 1');
    expect(few.witnesses).toEqual([]);
    expect((await check({ counts: { '2xx': { exactly: 1 } } }, [200, 409])).holds).toBe(true);
  });

  it('min: fewer fails without witnesses (the responses that did match show nothing wrong)', async () => {
    const r = await check({ counts: { '409': { min: 2 } } }, [200, 409]);
    expect(r.holds).toBe(false);
    expect(r.summary).toBe('1× 409, expected at least 2');
    expect(r.witnesses).toEqual([]);
    expect((await check({ counts: { '409': { min: 2 } } }, [409, 409])).holds).toBe(true);
    expect((await check({ counts: { '409': { min: 2 } } }, [409, 409, 409])).holds).toBe(true);
  });

  it('max: more fails, naming every response counted', async () => {
    const r = await check({ counts: { 409: { max: 1 } } }, [409, 200, 409]);
    expect(r.holds).toBe(false);
    expect(r.summary).toBe('2× 409, expected at most 1');
    expect(r.witnesses.map((w) => w.request)).toEqual([0, 2]);
    expect((await check({ counts: { 409: { max: 2 } } }, [409, 200, 409])).holds).toBe(true);
  });

  it('min and max together, and an exact status apart from its class', async () => {
    const block = { counts: { '2xx': { min: 1, max: 2 }, 201: { exactly: 0 } } };
    expect((await check(block, [200, 200])).holds).toBe(true);
    const r = await check(block, [200, 200, 201]);
    // (A status key comes before a class: JavaScript orders integer-like keys first.)
    expect(r.summary).toBe('1× 201, expected exactly 0; 3× 2xx, expected at least 1 and at most 2');
    // The 201 is a witness of both rules; it is listed once.
    expect(r.witnesses.map((w) => w.request)).toEqual([2, 0, 1]);
    expect(r.witnessCount).toBe(3);
  });

  it('`error` counts requests that got no response; no status class matches them', async () => {
    const r = await check({ counts: { error: { max: 0 }, '5xx': { max: 0 } } }, [200, 'error']);
    expect(r.summary).toBe('1× error, expected at most 0');
    expect(r.witnesses).toEqual([
      expect.objectContaining({ rule: 'counts.error', request: 1, error: 'ECONNRESET' }),
    ]);
    expect((await check({ counts: { '2xx': { exactly: 1 } } }, [200, 'error'])).holds).toBe(true);
  });
});

describe('responses: both rules, and what cannot be judged', () => {
  it('reports every broken rule at once', async () => {
    const r = await check(
      { allowed: [200, 409], counts: { '2xx': { exactly: 1 }, '5xx': { max: 0 } } },
      [200, 200, 500],
    );
    expect(r.holds).toBe(false);
    expect(r.summary).toBe(
      '1× 500 not in allowed [200, 409]; 2× 2xx, expected exactly 1; 1× 5xx, expected at most 0',
    );
    expect(r.witnesses.map((w) => w.request).sort()).toEqual([0, 1, 2]);
  });

  it('keeps at most 100 witnesses and counts all of them', async () => {
    const r = await check({ allowed: [200] }, times(150, 500));
    expect(r.witnesses).toHaveLength(100);
    expect(r.witnessCount).toBe(150);
  });

  it('no request at all is `unknown`, not a pass nor a fail: nothing was measured', async () => {
    for (const block of [
      { allowed: [200, 409] },
      { counts: { '5xx': { max: 0 } } },
      { counts: { '2xx': { exactly: 1 } } },
    ]) {
      const r = await check(block, []);
      expect(r.holds, JSON.stringify(block)).toBe('unknown');
      expect(r.summary).toMatch(/no request was recorded/);
    }
  });

  it('the scenario block needs a rule and well-formed keys', () => {
    expect(config.safeParse({ type: 'responses', name: 'r' }).success).toBe(false);
    expect(config.safeParse({ type: 'responses', name: 'r', counts: { '2xy': { max: 1 } } }).success).toBe(
      false,
    );
    expect(config.safeParse({ type: 'responses', name: 'r', counts: { '2xx': {} } }).success).toBe(false);
    expect(config.safeParse({ type: 'responses', name: 'r', allowed: [99] }).success).toBe(false);
  });
});
