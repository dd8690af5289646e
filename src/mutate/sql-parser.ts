/**
 * PostgreSQL's own parser, for reading and rewriting SQL statements. Parsing is `libpg-query` (the
 * server's grammar, PostgreSQL 18, compiled to WebAssembly and shipped inside the npm package: nothing is
 * built or downloaded at install or run time); deparsing is `pgsql-deparser` (the same project's deparser
 * for that parser's trees, tested by its authors against PostgreSQL's regression suite). Together they are
 * the npm package `pgsql-parser`.
 *
 * Statement positions are byte offsets into the UTF-8 text, as PostgreSQL reports them; `spliceSql`
 * replaces statements by those offsets, so statements that are not rewritten stay byte for byte.
 */
import { fingerprintSync, loadModule, type Node, normalizeSync, parseSync } from 'libpg-query';
import { deparseSync } from 'pgsql-deparser';

let loading: Promise<void> | undefined;
let loaded = false;

/** Load the parser's WebAssembly module (once; ≈ 20 ms). Every other function here needs it first. */
export async function loadSqlParser(): Promise<void> {
  loading ??= loadModule().then(() => {
    loaded = true;
  });
  await loading;
}

function ensureLoaded(): void {
  if (!loaded) throw new Error('the SQL parser is not loaded: await loadSqlParser() first');
}

/** One statement of a parsed SQL text. */
export interface ParsedStatement {
  /** The statement's tree (`{ SelectStmt: … }`, `{ UpdateStmt: … }`, …). */
  readonly node: Node;
  /** Byte offsets of the statement in the UTF-8 text (end exclusive, without its `;`). */
  readonly startByte: number;
  readonly endByte: number;
  /** The statement as written (trimmed). */
  readonly text: string;
  /**
   * pg_query's fingerprint of the statement: the same for texts that differ only in literal values,
   * parameter numbers, whitespace, comments or letter case of keywords (16 hex digits).
   */
  readonly fingerprint: string;
}

export type ParseOutcome =
  | { ok: true; statements: ParsedStatement[] }
  | { ok: false; error: string; cursorPosition?: number };

/** Parse SQL text (one or more statements). Never throws for bad SQL: returns `{ ok: false, error }`. */
export function parseSql(sql: string): ParseOutcome {
  ensureLoaded();
  // libpg-query refuses '' ("Query cannot be empty"); PostgreSQL answers it with EmptyQueryResponse.
  if (sql === '') return { ok: true, statements: [] };
  let result: ReturnType<typeof parseSync>;
  try {
    result = parseSync(sql);
  } catch (err) {
    const details = (err as { sqlDetails?: { cursorPosition?: number } }).sqlDetails;
    return { ok: false, error: (err as Error).message, cursorPosition: details?.cursorPosition };
  }
  const bytes = Buffer.from(sql, 'utf8');
  const statements: ParsedStatement[] = [];
  for (const raw of result.stmts ?? []) {
    if (!raw.stmt) continue;
    const startByte = raw.stmt_location ?? 0;
    const endByte = raw.stmt_len ? startByte + raw.stmt_len : bytes.length;
    const text = bytes.subarray(startByte, endByte).toString('utf8').trim();
    statements.push({ node: raw.stmt, startByte, endByte, text, fingerprint: fingerprintSync(text) });
  }
  return { ok: true, statements };
}

/** pg_stat_statements-style text of one statement: literals replaced by `$n` after its own parameters. */
export function normalizeStatement(text: string): string {
  ensureLoaded();
  return normalizeSync(text).replace(/\s+/g, ' ').trim();
}

/** SQL text of a tree or a clause of one, on one line. Throws when the deparser lacks the node type. */
export function deparse(node: unknown): string {
  ensureLoaded();
  return deparseSync(node as Node, { pretty: false }).trim();
}

/**
 * Whether two trees are the same statement: equal after dropping `location` fields (character offsets
 * that change whenever the text does), whatever the order of fields.
 */
export function sameTree(a: unknown, b: unknown): boolean {
  return JSON.stringify(withoutLocations(a)) === JSON.stringify(withoutLocations(b));
}

function withoutLocations(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutLocations);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      if (k !== 'location') out[k] = withoutLocations((v as Record<string, unknown>)[k]);
    }
    return out;
  }
  return v;
}

/** Replace byte ranges of `sql` (non-overlapping, any order) with new text; the rest stays as it was. */
export function spliceSql(
  sql: string,
  edits: readonly { startByte: number; endByte: number; text: string }[],
) {
  const bytes = Buffer.from(sql, 'utf8');
  const parts: Buffer[] = [];
  let at = 0;
  for (const e of [...edits].sort((x, y) => x.startByte - y.startByte)) {
    parts.push(bytes.subarray(at, e.startByte), Buffer.from(e.text, 'utf8'));
    at = e.endByte;
  }
  parts.push(bytes.subarray(at));
  return Buffer.concat(parts).toString('utf8');
}
