import fc from 'fast-check';

/**
 * Text mutations of a scenario, as a person's typo would be: delete, duplicate or swap lines, misspell a
 * key, change a value's type, cut the file short, insert characters. Shared by the fuzz test (the loader
 * never throws anything but located issues) and the JSON Schema test (the schema agrees with zod).
 */
export type Mutation = (lines: string[]) => string[];

const pick = (lines: string[], i: number) => i % Math.max(1, lines.length);

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.nat().map(
    (i): Mutation =>
      (l) =>
        l.filter((_, j) => j !== pick(l, i)),
  ),
  fc.nat().map(
    (i): Mutation =>
      (l) => {
        const k = pick(l, i);
        return [...l.slice(0, k + 1), l[k] ?? '', ...l.slice(k + 1)];
      },
  ),
  fc.tuple(fc.nat(), fc.nat()).map(
    ([i, j]): Mutation =>
      (l) => {
        const a = pick(l, i);
        const b = pick(l, j);
        const out = [...l];
        [out[a], out[b]] = [out[b] ?? '', out[a] ?? ''];
        return out;
      },
  ),
  fc.tuple(fc.nat(), fc.nat(), fc.string({ minLength: 1, maxLength: 1 })).map(
    ([i, p, c]): Mutation =>
      (l) => {
        const k = pick(l, i);
        const line = l[k] ?? '';
        const at = line.length ? p % line.length : 0;
        return l.map((x, j) => (j === k ? line.slice(0, at) + c + line.slice(at + 1) : x));
      },
  ),
  fc
    .tuple(
      fc.nat(),
      fc.constantFrom(
        '',
        '[]',
        '{}',
        '-1',
        '0',
        '1e9',
        'true',
        'null',
        '"x"',
        '~',
        '{{',
        '&a',
        '*a',
        '!!binary x',
        '"',
      ),
    )
    .map(
      ([i, v]): Mutation =>
        (l) => {
          const k = pick(l, i);
          return l.map((x, j) => (j === k ? x.replace(/:\s.*$/, `: ${v}`) : x));
        },
    ),
  fc.nat().map(
    (i): Mutation =>
      (l) =>
        l.slice(0, pick(l, i)),
  ),
  fc.tuple(fc.nat(), fc.nat({ max: 8 })).map(
    ([i, n]): Mutation =>
      (l) => {
        const k = pick(l, i);
        return l.map((x, j) => (j === k ? ' '.repeat(n) + x.trimStart() : x));
      },
  ),
  fc.tuple(fc.nat(), fc.string({ maxLength: 12 })).map(
    ([i, s]): Mutation =>
      (l) => {
        const k = pick(l, i);
        return [...l.slice(0, k), s, ...l.slice(k)];
      },
  ),
);

/** Apply `ms` to `text` line by line. */
export function mutate(text: string, ms: readonly Mutation[]): string {
  return ms.reduce((lines, m) => m(lines), text.split('\n')).join('\n');
}
