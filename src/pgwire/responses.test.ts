import { describe, expect, it } from 'vitest';
import { decodeBackend } from './backend-messages.js';
import { be } from './backend-test-support.js';
import { Frontend as F } from './frontend-messages.js';
import { Desync, ResponseTracker, type TrackedStep } from './responses.js';
import type { Step } from './step.js';

function setup() {
  const done: number[] = [];
  const tracker = new ResponseTracker({ clock: () => 1, done: (r) => done.push(r.step.id) });
  tracker.txStatus = 'I';
  let ids = 0;
  const send = (...codes: number[]): TrackedStep & { finishedAtOnce: boolean } => {
    const step = { id: ++ids, results: [], state: 'running', timing: {} } as unknown as Step;
    const run = { step, pending: 0, finishedAtOnce: false };
    run.finishedAtOnce = tracker.register(run, codes);
    return run;
  };
  const answer = (...raws: Buffer[]) => {
    for (const raw of raws) tracker.onBackend(raw[0]!, decodeBackend(raw[0]!, raw));
  };
  return { tracker, done, send, answer };
}

describe('ResponseTracker', () => {
  it('an extended-protocol step is done at ReadyForQuery, with its rows and transaction status', () => {
    const { done, send, answer, tracker } = setup();
    const s = send(F.Parse, F.Bind, F.Describe, F.Execute, F.Sync);
    answer(be.parseComplete(), be.bindComplete(), be.rowDescription('a'), be.dataRow('1'), be.dataRow('2'));
    answer(be.commandComplete('SELECT 2'));
    expect(done).toEqual([]);
    answer(be.ready('T'));
    expect(done).toEqual([1]);
    expect(s.step).toMatchObject({
      txBefore: 'I',
      txAfter: 'T',
      results: [{ kind: 'command', tag: 'SELECT 2', command: 'SELECT', rows: 2, dataRows: 2 }],
    });
    expect(tracker.empty).toBe(true);
  });

  it('a multi-statement Query gets one result per statement and is done once', () => {
    const { done, send, answer } = setup();
    const s = send(F.Query);
    answer(
      be.commandComplete('BEGIN'),
      be.commandComplete('UPDATE 3'),
      be.error('40001', 'could not serialize'),
    );
    answer(be.ready('E'));
    expect(done).toEqual([1]);
    expect(s.step.results.map((r) => r.kind)).toEqual(['command', 'command', 'error']);
    expect(s.step.error?.sqlstate).toBe('40001');
    expect(s.step.txAfter).toBe('E');
  });

  it('after an extended-protocol error the server skips to Sync; the next step is answered normally', () => {
    const { done, send, answer } = setup();
    const a = send(F.Parse, F.Bind, F.Describe, F.Execute, F.Sync);
    const b = send(F.Parse, F.Bind, F.Execute, F.Sync); // pipelined before a's answer
    answer(be.error('42601', 'syntax error'), be.ready('I'));
    expect(done).toEqual([1]);
    expect(a.step.results).toMatchObject([{ kind: 'error', error: { sqlstate: '42601' } }]);
    answer(be.parseComplete(), be.bindComplete(), be.commandComplete('UPDATE 1'), be.ready('I'));
    expect(done).toEqual([1, 2]);
    expect(b.step.results).toMatchObject([{ kind: 'command', rows: 1 }]);
  });

  it('an error in a Flush step ends it; messages sent before the next Sync are never answered', () => {
    const { done, send, answer } = setup();
    send(F.Parse, F.Bind, F.Describe, F.Execute, F.Flush);
    answer(be.error('22012', 'division by zero'));
    expect(done).toEqual([1]);
    const skipped = send(F.Bind, F.Execute, F.Flush);
    expect(skipped.finishedAtOnce).toBe(true);
    const sync = send(F.Sync);
    expect(sync.finishedAtOnce).toBe(false);
    answer(be.ready('I'));
    expect(done).toEqual([1, 3]);
  });

  it('a Flush step is done when its last message is answered (PortalSuspended)', () => {
    const { done, send, answer } = setup();
    const s = send(F.Parse, F.Bind, F.Describe, F.Execute, F.Flush);
    answer(
      be.parseComplete(),
      be.bindComplete(),
      be.rowDescription('a'),
      be.dataRow('1'),
      be.portalSuspended(),
    );
    expect(done).toEqual([1]);
    expect(s.step.results).toEqual([{ kind: 'suspended', dataRows: 1 }]);
    expect(s.step.txAfter).toBeUndefined();
    expect(send(F.Flush).finishedAtOnce).toBe(true);
  });

  it('Describe of a statement: ParameterDescription then NoData', () => {
    const { done, send, answer } = setup();
    send(F.Parse, F.Describe, F.Sync);
    answer(be.parseComplete(), be.parameterDescription(23), be.noData(), be.ready('I'));
    expect(done).toEqual([1]);
  });

  it('extended COPY FROM STDIN: the Sync sent with the COPY is ignored, the one after CopyDone answered', () => {
    const { done, send, answer, tracker } = setup();
    const copy = send(F.Parse, F.Bind, F.Execute, F.Sync);
    answer(be.parseComplete(), be.bindComplete(), be.copyIn());
    tracker.copyEnd(F.CopyDone);
    const sync = send(F.Sync);
    answer(be.commandComplete('COPY 2'));
    expect(done).toEqual([1]);
    expect(copy.step.results).toMatchObject([{ tag: 'COPY 2', rows: 2 }]);
    answer(be.ready('I'));
    expect(done).toEqual([1, 2]);
    expect(sync.step.txAfter).toBe('I');
  });

  it('extended COPY with the CopyDone not yet sent when the CopyInResponse arrives', () => {
    const { done, send, answer, tracker } = setup();
    send(F.Parse, F.Bind, F.Execute, F.Sync);
    answer(be.parseComplete(), be.bindComplete(), be.copyIn());
    expect(send(F.Sync).finishedAtOnce).toBe(true); // a Sync during COPY: ignored, never answered
    tracker.copyEnd(F.CopyFail);
    send(F.Sync);
    answer(be.error('57014', 'COPY from stdin failed'), be.ready('I'));
    expect(done).toEqual([1, 3]);
  });

  it('simple COPY in and out', () => {
    const { done, send, answer, tracker } = setup();
    send(F.Query);
    answer(be.copyIn());
    tracker.copyEnd(F.CopyDone);
    answer(be.commandComplete('COPY 1'), be.ready('I'));
    const out = send(F.Query);
    answer(be.copyOut(), be.copyData('1\n'), be.copyDone(), be.commandComplete('COPY 1'), be.ready('I'));
    expect(done).toEqual([1, 2]);
    expect(out.step.results).toMatchObject([{ tag: 'COPY 1' }]);
  });

  it('notices, notifications and parameter changes answer nothing', () => {
    const { done, send, answer } = setup();
    const s = send(F.Query);
    answer(be.notice('hi'), be.notification(1, 'c', 'p'), be.parameterStatus('TimeZone', 'UTC'));
    expect(s.step.timing.firstResponseAtMs).toBeUndefined();
    answer(be.emptyQuery(), be.ready('I'));
    expect(done).toEqual([1]);
    expect(s.step.results).toEqual([{ kind: 'empty' }]);
  });

  it('an error with nothing waiting is returned as an orphan (a FATAL before a disconnection)', () => {
    const { tracker } = setup();
    const raw = be.error('57P01', 'terminating connection due to administrator command');
    expect(tracker.onBackend(raw[0]!, decodeBackend(raw[0]!, raw)).orphanError).toMatchObject({
      type: 'ErrorResponse',
    });
  });

  it('throws Desync on an answer that matches nothing', () => {
    const { send, answer } = setup();
    send(F.Query);
    expect(() => answer(be.parseComplete())).toThrow(Desync);
  });
});
