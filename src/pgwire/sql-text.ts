/**
 * SQL text as a step record shows it: whitespace runs become one space, comments are dropped, `$n`
 * parameters stay, and the statements of a multi-statement simple Query are listed one by one.
 *
 * Two forms:
 * - `text`: literals kept (`UPDATE jobs SET state = 'done' WHERE id = $1`). Identifies one execution.
 * - `shape`: string and number literals replaced by `$k`, numbered after the highest `$n` the text
 *   already has, as pg_stat_statements does (`UPDATE jobs SET state = $2 WHERE id = $1`). Identifies what
 *   the code does, whatever the values.
 *
 * This is a lexer, not a parser: it knows PostgreSQL's quoting (`'…'` with `''`, `E'…'` with backslash
 * escapes, `$tag$…$tag$`, `"…"`, nested block comments) so that a `;` or `--` inside a literal is not
 * taken for syntax, and it accepts any text (a statement with a syntax error still gets a record). It does
 * not know `BEGIN ATOMIC … END` bodies: a `;` inside one splits the statement list there.
 * Source: PostgreSQL documentation, "Lexical Structure".
 */

export interface NormalizedSql {
  /** Whitespace-normalized, comments removed, literals kept. */
  text: string;
  /** As `text`, with string and number literals replaced by `$k` (pg_stat_statements numbering). */
  shape: string;
  /** The non-empty statements, split at top-level `;` (without it), each in both forms. */
  statements: { text: string; shape: string }[];
  /** True when the SQL was longer than `MAX_NORMALIZED_CHARS` and only its start was read. */
  truncated: boolean;
}

/** Characters of SQL read per step: a 10 MB bulk INSERT is recorded by its start (lexing costs µs per token). */
export const MAX_NORMALIZED_CHARS = 16_384;

type Kind = 'space' | 'literal' | 'param' | 'semicolon' | 'word';

interface Token {
  kind: Kind;
  text: string;
}

/** Letters, `_`, and any non-ASCII character (PostgreSQL allows those in identifiers). */
function isIdentStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c >= 128;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isIdentChar(c: number): boolean {
  return isIdentStart(c) || isDigit(c) || c === 36;
}

/** Space, tab, newline, carriage return, vertical tab, form feed (PostgreSQL's own set). */
function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

/** Normalize `sql` (see the module comment). Never throws. */
export function normalizeSql(sql: string): NormalizedSql {
  const truncated = sql.length > MAX_NORMALIZED_CHARS;
  const tokens = lex(truncated ? sql.slice(0, MAX_NORMALIZED_CHARS) : sql);
  let maxParam = 0;
  for (const t of tokens) if (t.kind === 'param') maxParam = Math.max(maxParam, Number(t.text.slice(1)));
  let next = maxParam;
  const text: string[] = [];
  const shape: string[] = [];
  const statements: { text: string; shape: string }[] = [];
  let current: string[] = [];
  let currentShape: string[] = [];
  // Each statement's shape is numbered on its own, the whole text's straight through.
  let nextInStatement = maxParam;
  const endStatement = () => {
    const s = current.join('').trim();
    if (s) statements.push({ text: s, shape: currentShape.join('').trim() });
    current = [];
    currentShape = [];
    nextInStatement = maxParam;
  };
  for (const t of tokens) {
    if (t.kind === 'space') {
      // One space between tokens, none at the start or end (trimmed below).
      if (text.length && text[text.length - 1] !== ' ') {
        text.push(' ');
        shape.push(' ');
        current.push(' ');
        currentShape.push(' ');
      }
      continue;
    }
    const literal = t.kind === 'literal';
    text.push(t.text);
    shape.push(literal ? `$${++next}` : t.text);
    if (t.kind === 'semicolon') endStatement();
    else {
      current.push(t.text);
      currentShape.push(literal ? `$${++nextInStatement}` : t.text);
    }
  }
  endStatement();
  return { text: text.join('').trim(), shape: shape.join('').trim(), statements, truncated };
}

function lex(sql: string): Token[] {
  const out: Token[] = [];
  const n = sql.length;
  let i = 0;
  const push = (kind: Kind, from: number, to: number) => out.push({ kind, text: sql.slice(from, to) });
  const at = (k: number) => (k < n ? sql.charCodeAt(k) : -1);
  while (i < n) {
    const c = sql.charCodeAt(i);
    const start = i;
    const next = at(i + 1);
    if (isSpace(c)) {
      while (i < n && isSpace(sql.charCodeAt(i))) i++;
      out.push(SPACE);
    } else if (c === 45 /* - */ && next === 45) {
      const eol = sql.indexOf('\n', i);
      i = eol < 0 ? n : eol;
      out.push(SPACE);
    } else if (c === 47 /* / */ && next === 42 /* * */) {
      i = blockCommentEnd(sql, i);
      out.push(SPACE);
    } else if (c === 39 /* ' */) {
      i = quotedEnd(sql, i + 1, "'", false);
      push('literal', start, i);
    } else if (next === 39 && /[EeBbXxNn]/.test(sql[i]!) && !identBefore(sql, i)) {
      i = quotedEnd(sql, i + 2, "'", c === 69 || c === 101);
      push('literal', start, i);
    } else if ((c === 85 || c === 117) && next === 38 /* & */ && at(i + 2) === 39 && !identBefore(sql, i)) {
      i = quotedEnd(sql, i + 3, "'", false);
      push('literal', start, i);
    } else if (c === 34 /* " */) {
      i = quotedEnd(sql, i + 1, '"', false);
      push('word', start, i);
    } else if (c === 36 /* $ */ && isDigit(next) && !identBefore(sql, i)) {
      i++;
      while (i < n && isDigit(sql.charCodeAt(i))) i++;
      push('param', start, i);
    } else if (c === 36 && !identBefore(sql, i) && dollarTag(sql, i) !== undefined) {
      const tag = dollarTag(sql, i)!;
      const close = sql.indexOf(tag, i + tag.length);
      i = close < 0 ? n : close + tag.length;
      push('literal', start, i);
    } else if (isDigit(c) || (c === 46 /* . */ && isDigit(next))) {
      if (identBefore(sql, i)) {
        while (i < n && isIdentChar(sql.charCodeAt(i))) i++;
        push('word', start, i);
      } else {
        i = numberEnd(sql, i);
        push('literal', start, i);
      }
    } else if (isIdentStart(c)) {
      while (i < n && isIdentChar(sql.charCodeAt(i))) i++;
      push('word', start, i);
    } else if (c === 59 /* ; */) {
      i++;
      push('semicolon', start, i);
    } else {
      i++;
      push('word', start, i);
    }
  }
  return out;
}

const SPACE: Token = { kind: 'space', text: ' ' };

/** Whether the character before `i` continues an identifier (so `x1`, `a$b` are not literals/params). */
function identBefore(sql: string, i: number): boolean {
  return i > 0 && isIdentChar(sql.charCodeAt(i - 1));
}

/** End (exclusive) of a quoted run opened before `from`; `''` (or `""`) is a quote inside it. */
function quotedEnd(sql: string, from: number, quote: string, backslashEscapes: boolean): number {
  let i = from;
  while (i < sql.length) {
    const c = sql[i]!;
    if (backslashEscapes && c === '\\') i += 2;
    else if (c === quote) {
      if (sql[i + 1] === quote) i += 2;
      else return i + 1;
    } else i++;
  }
  return sql.length;
}

function blockCommentEnd(sql: string, from: number): number {
  let depth = 0;
  let i = from;
  while (i < sql.length) {
    if (sql[i] === '/' && sql[i + 1] === '*') {
      depth++;
      i += 2;
    } else if (sql[i] === '*' && sql[i + 1] === '/') {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else i++;
  }
  return sql.length;
}

/** `$tag$` starting at `i` (tag empty or an identifier without `$`), or undefined. */
function dollarTag(sql: string, i: number): string | undefined {
  DOLLAR_TAG.lastIndex = i;
  return DOLLAR_TAG.exec(sql)?.[0];
}

const DOLLAR_TAG = /\$([A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/y;

/** Numeric constant: 42, 3.5, .5, 4e-3, 0x1F, 0o17, 0b101, 1_000 (PostgreSQL 16+). */
function numberEnd(sql: string, from: number): number {
  NUMBER.lastIndex = from;
  return from + Math.max(1, NUMBER.exec(sql)?.[0].length ?? 1);
}

const NUMBER = /0[xX][0-9A-Fa-f_]+|0[oO][0-7_]+|0[bB][01_]+|(\d[\d_]*)?\.?\d[\d_]*([eE][+-]?\d+)?\.?/y;
