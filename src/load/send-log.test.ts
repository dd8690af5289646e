import { describe, expect, it } from 'vitest';
import { SendLog } from './send-log.js';

describe('SendLog', () => {
  it('gives back every request as the record it would have been, across chunks', () => {
    const log = new SendLog();
    for (let i = 0; i < 10_000; i++) {
      log.add(i, i % 7, i * 0.5, {
        sentAtMs: i * 0.5 + 0.01,
        status: 200,
        latencyMs: 0.2,
        body: i % 2 ? 'ok\n' : `row ${i}\n`,
        bodyBytes: 3,
        bodyLines: 1,
      });
    }
    log.add(10_000, -1, 5000, { sentAtMs: 6000, error: 'dropped' });
    log.add(10_001, 3, 5000.5, { sentAtMs: 5000.6, error: 'ECONNRESET' });
    const records = log.toRecords();
    expect(records).toHaveLength(10_002);
    expect(records[4321]).toEqual({
      index: 4321,
      connection: 4321 % 7,
      intendedAtMs: 2160.5,
      sentAtMs: 2160.51,
      status: 200,
      latencyMs: 0.2,
      body: 'ok\n',
      bodyBytes: 3,
      bodyLines: 1,
    });
    expect(records[4322]!.body).toBe('row 4322\n');
    expect(records[10_000]).toEqual({
      index: 10_000,
      connection: -1,
      intendedAtMs: 5000,
      sentAtMs: 6000,
      error: 'dropped',
    });
    expect(records[10_001]).toEqual({
      index: 10_001,
      connection: 3,
      intendedAtMs: 5000.5,
      sentAtMs: 5000.6,
      error: 'ECONNRESET',
    });
  });

  it('keeps a latency of 0 and an empty body', () => {
    const log = new SendLog();
    log.add(0, 0, 1, { sentAtMs: 1, status: 204, latencyMs: 0, body: '', bodyBytes: 0, bodyLines: 0 });
    expect(log.toRecords()[0]).toMatchObject({
      status: 204,
      latencyMs: 0,
      body: '',
      bodyBytes: 0,
      bodyLines: 0,
    });
  });
});
