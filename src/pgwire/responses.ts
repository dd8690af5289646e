/**
 * Matching one connection's backend messages to the steps they answer.
 *
 * Every frontend message the server answers is registered in send order; backend messages consume them
 * from the front (PostgreSQL answers in order). A step is done when all of its messages are answered:
 * a Sync, Query or FunctionCall by ReadyForQuery (whose status becomes the step's `txAfter`), a Parse by
 * ParseComplete, a Bind by BindComplete, a Describe by RowDescription or NoData, an Execute by
 * CommandComplete, EmptyQueryResponse or PortalSuspended, a Close by CloseComplete. Flush is answered by
 * nothing.
 *
 * Two rules of the server's come from the protocol documentation ("Extended Query", "COPY Operations"):
 * - after an error in an extended-protocol message, the server discards every message up to the next
 *   Sync without answering it — also messages of later steps, and ones sent after the error;
 * - during COPY FROM STDIN it ignores Sync and Flush until CopyDone or CopyFail (libpq sends a Sync with
 *   the COPY's Execute and another after CopyDone).
 * A message the model did not expect is reported as a desync (the proxy then stops tracking the
 * connection; its bytes still flow).
 */
import { Backend, type BackendMessage, rowsOfTag, type TxStatus } from './backend-messages.js';
import { Frontend, frontendName } from './frontend-messages.js';
import type { Step, StepResult } from './step.js';

/** A released step as the tracker follows it. */
export interface TrackedStep {
  readonly step: Step;
  /** Its registered messages not answered yet. */
  pending: number;
}

export interface ResponseHooks {
  /** Proxy clock, ms. */
  clock(): number;
  /** The step's result is complete. */
  done(run: TrackedStep): void;
}

interface Entry {
  /** Frontend type byte; CopyDone/CopyFail entries are markers (no answer expected). */
  code: number;
  run: TrackedStep | undefined;
}

const ANSWERED = new Set<number>([
  Frontend.Parse,
  Frontend.Bind,
  Frontend.Describe,
  Frontend.Execute,
  Frontend.Close,
  Frontend.Sync,
  Frontend.Query,
  Frontend.FunctionCall,
]);

const QUERY_OR_EXECUTE = [Frontend.Query, Frontend.Execute] as const;
const QUERY = [Frontend.Query] as const;
const SYNC_LIKE = [Frontend.Sync, Frontend.Query, Frontend.FunctionCall] as const;

/** Backend messages that may arrive at any time and answer nothing. */
const ASYNC = new Set<number>([
  Backend.NotificationResponse,
  Backend.NoticeResponse,
  Backend.ParameterStatus,
]);

export class ResponseTracker {
  /** Last ReadyForQuery status. */
  txStatus: TxStatus | undefined;
  #entries: Entry[] = [];
  #head = 0;
  #skipUntilSync = false;
  #copyInIgnoresSync = false;
  #dataRows = 0;

  constructor(private readonly hooks: ResponseHooks) {}

  /** Nothing registered is waiting for an answer. */
  get empty(): boolean {
    this.#dropMarkers();
    return this.#head >= this.#entries.length;
  }

  /** Steps still waiting for answers, oldest first. */
  pendingSteps(): Step[] {
    const out = new Set<Step>();
    for (let i = this.#head; i < this.#entries.length; i++) {
      const r = this.#entries[i]!.run;
      if (r) out.add(r.step);
    }
    return [...out];
  }

  /**
   * The step's messages went to the server (in this order). Returns true when none of them will be
   * answered (a lone Flush, or messages the server discards after an error): the step is done already.
   */
  register(run: TrackedStep, codes: readonly number[]): boolean {
    for (const code of codes) {
      if (!ANSWERED.has(code)) continue;
      if (code === Frontend.Sync) {
        if (this.#copyInIgnoresSync) continue;
        this.#skipUntilSync = false;
      } else if (this.#skipUntilSync) continue;
      this.#entries.push({ code, run });
      run.pending++;
    }
    return run.pending === 0;
  }

  /** A DataRow arrived (counted into the next result). */
  dataRow(): void {
    this.#dataRows++;
  }

  /** A CopyDone or CopyFail went to the server. */
  copyEnd(code: number): void {
    this.#entries.push({ code, run: undefined });
    this.#copyInIgnoresSync = false;
  }

  /**
   * Account for one backend message. Returns an error that answers no step (a FATAL before a
   * disconnection), or throws `Desync` when the message cannot be matched.
   */
  onBackend(code: number, msg: BackendMessage): { orphanError?: BackendMessage } {
    if (ASYNC.has(code)) return {};
    this.#dropMarkers();
    const front = this.#entries[this.#head];
    const run = front?.run;
    if (run && run.step.timing.firstResponseAtMs === undefined) {
      run.step.timing.firstResponseAtMs = this.hooks.clock();
      run.step.txBefore = this.txStatus;
    }
    switch (code) {
      case Backend.ParseComplete:
        this.#pop(Frontend.Parse, code);
        break;
      case Backend.BindComplete:
        this.#pop(Frontend.Bind, code);
        break;
      case Backend.CloseComplete:
        this.#pop(Frontend.Close, code);
        break;
      case Backend.NoData:
        this.#pop(Frontend.Describe, code);
        break;
      case Backend.RowDescription:
        if (front?.code === Frontend.Describe) this.#pop(Frontend.Describe, code);
        else this.#expect(QUERY_OR_EXECUTE, code);
        break;
      case Backend.DataRow:
        this.#dataRows++;
        break;
      case Backend.CommandComplete: {
        const tag = msg.type === 'CommandComplete' ? msg.tag : '';
        const rows = rowsOfTag(tag);
        const result: StepResult = {
          kind: 'command',
          tag,
          command: tag.split(' ')[0] ?? '',
          dataRows: this.#dataRows,
        };
        if (rows !== undefined) result.rows = rows;
        this.#result(result);
        if (front?.code === Frontend.Execute) this.#pop(Frontend.Execute, code);
        else this.#expect(QUERY, code);
        break;
      }
      case Backend.EmptyQueryResponse:
        this.#result({ kind: 'empty' });
        if (front?.code === Frontend.Execute) this.#pop(Frontend.Execute, code);
        else this.#expect(QUERY, code);
        break;
      case Backend.PortalSuspended:
        this.#result({ kind: 'suspended', dataRows: this.#dataRows });
        this.#pop(Frontend.Execute, code);
        break;
      case Backend.ErrorResponse: {
        if (!front) return { orphanError: msg };
        if (msg.type === 'ErrorResponse') {
          this.#result({ kind: 'error', error: msg.error });
          run!.step.error ??= msg.error;
        }
        const c = front.code;
        if (c === Frontend.Query || c === Frontend.FunctionCall || c === Frontend.Sync) break;
        // Extended protocol: the server now skips everything up to the next Sync, unanswered.
        while (this.#head < this.#entries.length && this.#entries[this.#head]!.code !== Frontend.Sync) {
          this.#popAny();
        }
        if (this.#head >= this.#entries.length) this.#skipUntilSync = true;
        this.#copyInIgnoresSync = false;
        break;
      }
      case Backend.ReadyForQuery: {
        const status = msg.type === 'ReadyForQuery' ? msg.status : undefined;
        this.txStatus = status;
        if (run) run.step.txAfter = status;
        this.#pop(SYNC_LIKE, code);
        this.#skipUntilSync = false;
        break;
      }
      case Backend.CopyInResponse:
        this.#expect(QUERY_OR_EXECUTE, code);
        this.#ignoreSyncsInCopyIn();
        break;
      case Backend.CopyOutResponse:
      case Backend.ParameterDescription:
      case Backend.CopyData:
      case Backend.CopyDone:
      case Backend.FunctionCallResponse:
        break;
      default:
        throw new Desync(`unexpected backend message '${String.fromCharCode(code)}'`);
    }
    return {};
  }

  #result(r: StepResult): void {
    this.#dataRows = 0;
    const run = this.#entries[this.#head]?.run;
    if (!run) throw new Desync(`a result (${r.kind}) with no step waiting for one`);
    run.step.results.push(r);
  }

  #expect(codes: number | readonly number[], got: number): void {
    const front = this.#entries[this.#head];
    if (!front || (typeof codes === 'number' ? front.code !== codes : !codes.includes(front.code))) {
      const want = (typeof codes === 'number' ? [codes] : codes).map(frontendName).join(' or ');
      throw new Desync(
        `backend '${String.fromCharCode(got)}' answers ${want}, but the oldest unanswered message is ${front ? frontendName(front.code) : 'none'}`,
      );
    }
  }

  #pop(codes: number | readonly number[], got: number): void {
    this.#expect(codes, got);
    this.#popAny();
  }

  #popAny(): void {
    const e = this.#entries[this.#head++]!;
    if (this.#head > 1024 && this.#head * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head);
      this.#head = 0;
    }
    const run = e.run;
    if (!run) return;
    run.pending--;
    if (run.pending === 0) {
      run.step.state = 'done';
      run.step.timing.doneAtMs = this.hooks.clock();
      this.hooks.done(run);
    }
  }

  #dropMarkers(): void {
    while (this.#head < this.#entries.length && this.#entries[this.#head]!.run === undefined) this.#head++;
  }

  /** COPY FROM STDIN began: Syncs sent after the COPY and before its CopyDone/CopyFail are ignored. */
  #ignoreSyncsInCopyIn(): void {
    const kept: Entry[] = [this.#entries[this.#head]!];
    let i = this.#head + 1;
    let endSent = false;
    for (; i < this.#entries.length; i++) {
      const e = this.#entries[i]!;
      if (e.run === undefined) {
        endSent = true;
        break;
      }
      if (e.code === Frontend.Sync) {
        e.run.pending--;
        if (e.run.pending === 0) {
          e.run.step.state = 'done';
          e.run.step.timing.doneAtMs = this.hooks.clock();
          this.hooks.done(e.run);
        }
      } else kept.push(e);
    }
    this.#entries = [...kept, ...this.#entries.slice(i)];
    this.#head = 0;
    if (!endSent) this.#copyInIgnoresSync = true;
  }
}

/** The backend stream does not match what the tracker expected. */
export class Desync extends Error {
  override name = 'Desync';
}
