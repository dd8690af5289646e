/**
 * A step: what the server executes between two points where the client waits for it.
 *
 * - A simple `Query` is one step, even when it holds several statements (`BEGIN; UPDATE …; COMMIT`):
 *   the server runs them back to back without reading from the client again, so nothing can be
 *   scheduled between them without rewriting the query. Its statements are listed one by one, and so are
 *   their results.
 * - In the extended protocol, a batch up to and including `Sync` (node-postgres sends
 *   Parse/Bind/Describe/Execute/Sync per query), or up to and including `Flush`: a client that sends
 *   Flush waits for what it asked so far (pg-cursor reads a page with Execute/Flush), so Flush ends a
 *   step too. Such a step has no ReadyForQuery; it is done when the last message in it is answered.
 * - A `FunctionCall` is a step of its own.
 * - A batch cut short by COPY data (`Execute` then CopyData without a Sync between) ends where the
 *   data starts; the data itself is never held (it belongs to the step already running).
 *
 * Steps of one connection go to the server in the order the client sent them. A step record is plain
 * data that the proxy updates in place as the step moves on (`state`, `results`, `timing`); copy it
 * (`JSON.parse(JSON.stringify(step))`) to keep a snapshot.
 */
import type { ServerError, TxStatus } from './backend-messages.js';
import {
  decodeFrontend,
  Frontend,
  type FrontendMessage,
  frontendName,
  type ParamValue,
} from './frontend-messages.js';
import { normalizeSql } from './sql-text.js';

/**
 * `queued`: complete at the proxy, behind an earlier step of its connection; `held`: the gate holds it;
 * `running`: forwarded, its result not complete; `done`: result complete; `dropped`: never forwarded (the
 * server connection closed first); `aborted`: forwarded, but the server connection closed before its
 * result was complete.
 */
export type StepState = 'queued' | 'held' | 'running' | 'done' | 'dropped' | 'aborted';

/** What ended the step at the proxy. */
export type StepBoundary = 'query' | 'sync' | 'flush' | 'function-call' | 'copy';

export interface StepStatement {
  /** `query`: in a simple Query; `execute`: an Execute of a portal; `parse`: prepared, not executed here. */
  via: 'query' | 'execute' | 'parse' | 'function-call';
  /** Normalized SQL, literals kept (`sql-text.ts`). */
  text: string;
  /** Normalized SQL, literals replaced by `$k`. */
  shape: string;
  /** Prepared-statement name ('' is the unnamed statement), extended protocol only. */
  statement?: string;
  /** Bind parameters, in order (`ParamValue`: text as text, binary as hex, NULL as null). */
  params?: ParamValue[];
}

export type StepResult =
  /** CommandComplete: its tag (`UPDATE 3`), the command word, the rows the tag counts, DataRows seen. */
  | { kind: 'command'; tag: string; command: string; rows?: number; dataRows: number }
  /** PortalSuspended: an Execute with a row limit stopped after `dataRows`. */
  | { kind: 'suspended'; dataRows: number }
  /** EmptyQueryResponse. */
  | { kind: 'empty' }
  | { kind: 'error'; error: ServerError };

/** Times in ms on the proxy's clock (`performance.now()` unless injected). */
export interface StepTiming {
  /** The step's first message complete at the proxy. */
  arrivedAtMs: number;
  /** The step's last message at the proxy (complete; handed to the gate when first in line). */
  readyAtMs: number;
  releasedAtMs?: number;
  firstResponseAtMs?: number;
  doneAtMs?: number;
}

export interface Step {
  /** Proxy-wide, 1-based, in the order steps became complete at the proxy. */
  readonly id: number;
  /** The proxy's connection id (1-based, accept order). */
  readonly connectionId: number;
  /** PostgreSQL's backend pid for the connection (BackendKeyData). */
  readonly backendPid: number | undefined;
  /** 1-based position among its connection's steps. */
  readonly seq: number;
  readonly boundary: StepBoundary;
  /** Frontend messages in it, by name (`Parse`, `Bind`, `Describe`, `Execute`, `Sync`). */
  readonly messages: readonly string[];
  readonly statements: readonly StepStatement[];
  /** Bytes the step forwards. */
  readonly bytes: number;
  state: StepState;
  /** Transaction status when the server began answering it (the last ReadyForQuery before). */
  txBefore?: TxStatus;
  /** From the ReadyForQuery that ended it (absent for a Flush step). */
  txAfter?: TxStatus;
  results: StepResult[];
  /** The first error among `results`, for convenience. */
  error?: ServerError;
  timing: StepTiming;
}

/** Per-connection state a step's decoding needs: prepared statements and portals, by name. */
export class StatementRegistry {
  /** Statement name → SQL. */
  readonly statements = new Map<string, string>();
  /** Portal name → its statement, that statement's SQL, and the Bind (decoded when someone asks). */
  readonly portals = new Map<string, { statement: string; sql: string; bind: Buffer }>();
}

/** What a statement of the step is made from; decoded and normalized only when `statements` is read. */
type Source =
  | { via: 'query'; raw: Buffer }
  | { via: 'execute'; sql: string; statement?: string; bind?: Buffer }
  | { via: 'parse'; sql: string; statement: string }
  | { via: 'function-call'; raw: Buffer };

/**
 * Accumulates one connection's frontend messages into the next step. Only names are read as messages
 * arrive (to follow prepared statements and portals); SQL normalization and parameter decoding wait until
 * the step's `statements` are first read, so a pass-through proxy that nobody asks pays nothing for them.
 */
export class StepBuilder {
  readonly chunks: Buffer[] = [];
  readonly codes: number[] = [];
  #sources: Source[] = [];
  #parsed: Source[] = [];
  #bytes = 0;

  constructor(
    readonly arrivedAtMs: number,
    private readonly registry: StatementRegistry,
  ) {}

  get empty(): boolean {
    return this.codes.length === 0;
  }

  /** Add a whole frontend message (type byte, length, body) that belongs to a step. */
  add(raw: Buffer): void {
    // Messages that lay side by side in one read stay one buffer: one write instead of a writev of five.
    const last = this.chunks[this.chunks.length - 1];
    if (last && last.buffer === raw.buffer && last.byteOffset + last.length === raw.byteOffset) {
      this.chunks[this.chunks.length - 1] = Buffer.from(
        last.buffer,
        last.byteOffset,
        last.length + raw.length,
      );
    } else this.chunks.push(raw);
    this.codes.push(raw[0]!);
    this.#bytes += raw.length;
    const r = this.registry;
    switch (raw[0]) {
      case Frontend.Query:
        this.#sources.push({ via: 'query', raw });
        break;
      case Frontend.Parse: {
        const [statement, sql] = cstrings(raw, 5, 2);
        r.statements.set(statement!, sql!);
        this.#parsed.push({ via: 'parse', sql: sql!, statement: statement! });
        break;
      }
      case Frontend.Bind: {
        const [portal, statement] = cstrings(raw, 5, 2);
        r.portals.set(portal!, { statement: statement!, sql: r.statements.get(statement!) ?? '', bind: raw });
        break;
      }
      case Frontend.Execute: {
        const p = r.portals.get(cstrings(raw, 5, 1)[0]!);
        this.#sources.push({ via: 'execute', sql: p?.sql ?? '', statement: p?.statement, bind: p?.bind });
        break;
      }
      case Frontend.Close: {
        const name = cstrings(raw, 6, 1)[0]!;
        if (raw[5] === 0x53) r.statements.delete(name);
        else r.portals.delete(name);
        break;
      }
      case Frontend.FunctionCall:
        this.#sources.push({ via: 'function-call', raw });
        break;
    }
  }

  /** The finished step record (`statements` is computed on first read, then kept). */
  build(o: {
    id: number;
    connectionId: number;
    backendPid: number | undefined;
    seq: number;
    boundary: StepBoundary;
    readyAtMs: number;
  }): Step {
    const sources = this.#sources.some((s) => s.via === 'execute')
      ? this.#sources
      : [...this.#sources, ...this.#parsed];
    return new StepRecord(o, this.codes.map(frontendName), this.#bytes, this.arrivedAtMs, sources);
  }
}

/**
 * A step record whose `statements` are decoded on first read (a getter on the prototype: an accessor
 * defined per object cost ≈ 12 µs a step here, most of the proxy's own time per query). `toJSON` includes
 * them, so `JSON.stringify` and reports see plain data.
 */
class StepRecord implements Step {
  readonly id: number;
  readonly connectionId: number;
  readonly backendPid: number | undefined;
  readonly seq: number;
  readonly boundary: StepBoundary;
  state: StepState = 'queued';
  txBefore?: TxStatus;
  txAfter?: TxStatus;
  results: StepResult[] = [];
  error?: ServerError;
  timing: StepTiming;
  #sources: Source[];
  #statements: StepStatement[] | undefined;

  constructor(
    o: {
      id: number;
      connectionId: number;
      backendPid: number | undefined;
      seq: number;
      boundary: StepBoundary;
      readyAtMs: number;
    },
    readonly messages: readonly string[],
    readonly bytes: number,
    arrivedAtMs: number,
    sources: Source[],
  ) {
    this.id = o.id;
    this.connectionId = o.connectionId;
    this.backendPid = o.backendPid;
    this.seq = o.seq;
    this.boundary = o.boundary;
    this.timing = { arrivedAtMs, readyAtMs: o.readyAtMs };
    this.#sources = sources;
  }

  get statements(): readonly StepStatement[] {
    this.#statements ??= this.#sources.flatMap(statementsOf);
    return this.#statements;
  }

  toJSON(): Step {
    const { id, connectionId, backendPid, seq, boundary, messages, statements, bytes, state } = this;
    const out: Step = {
      id,
      connectionId,
      backendPid,
      seq,
      boundary,
      messages,
      statements,
      bytes,
      state,
      results: this.results,
      timing: this.timing,
    };
    if (this.txBefore) out.txBefore = this.txBefore;
    if (this.txAfter) out.txAfter = this.txAfter;
    if (this.error) out.error = this.error;
    return out;
  }
}

function statementsOf(s: Source): StepStatement[] {
  switch (s.via) {
    case 'query': {
      const m = decodeFrontend(s.raw) as Extract<FrontendMessage, { type: 'Query' }>;
      return normalizeSql(m.sql).statements.map((st) => ({ via: 'query' as const, ...st }));
    }
    case 'execute': {
      const { text, shape } = normalizeSql(s.sql);
      const out: StepStatement = { via: 'execute', text, shape };
      if (s.statement !== undefined) out.statement = s.statement;
      if (s.bind) out.params = (decodeFrontend(s.bind) as Extract<FrontendMessage, { type: 'Bind' }>).params;
      return [out];
    }
    case 'parse': {
      const { text, shape } = normalizeSql(s.sql);
      return [{ via: 'parse', text, shape, statement: s.statement }];
    }
    case 'function-call': {
      const m = decodeFrontend(s.raw) as Extract<FrontendMessage, { type: 'FunctionCall' }>;
      const text = `function ${m.functionOid}`;
      return [{ via: 'function-call', text, shape: text, params: m.args }];
    }
  }
}

/** The first `n` NUL-terminated strings from `offset` ('' for any the message is too short to hold). */
function cstrings(raw: Buffer, offset: number, n: number): string[] {
  const out: string[] = [];
  let at = offset;
  for (let i = 0; i < n; i++) {
    const end = at < raw.length ? raw.indexOf(0, at) : -1;
    out.push(end < 0 ? '' : raw.toString('utf8', at, end));
    at = end < 0 ? raw.length : end + 1;
  }
  return out;
}

/** The boundary a frontend message makes, or undefined when the step goes on. */
export function boundaryOf(code: number): StepBoundary | undefined {
  switch (code) {
    case Frontend.Query:
      return 'query';
    case Frontend.Sync:
      return 'sync';
    case Frontend.Flush:
      return 'flush';
    case Frontend.FunctionCall:
      return 'function-call';
    default:
      return undefined;
  }
}

/** Messages that belong to a step (everything else is forwarded as it comes, in order). */
export function isStepMessage(code: number): boolean {
  return (
    boundaryOf(code) !== undefined ||
    code === Frontend.Parse ||
    code === Frontend.Bind ||
    code === Frontend.Describe ||
    code === Frontend.Execute ||
    code === Frontend.Close
  );
}
