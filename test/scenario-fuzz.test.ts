import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ScenarioError } from '../src/errors.js';
import { parseScenario } from '../src/scenario/load.js';
import { ROOT } from './helpers.js';

/**
 * Bad input never produces a stack trace: every mutation of a valid scenario either still loads or is
 * rejected with a `ScenarioError` whose every issue names file, line, column and a message. Mutations are
 * made on the text (as a person's typo would be): delete, duplicate or swap lines, misspell a key, change
 * a value's type, cut the file short, insert characters.
 */
const scenarioDir = join(ROOT, 'scenarios');
const files = readdirSync(scenarioDir)
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => ({ file: join(scenarioDir, f), text: readFileSync(join(scenarioDir, f), 'utf8') }));

type Mutation = (lines: string[]) => string[];

const pick = (lines: string[], i: number) => i % Math.max(1, lines.length);

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
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

describe('scenario fuzzing', () => {
  it('2,000+ mutated scenarios: each loads or fails with located issues, never anything else', () => {
    expect(files.length).toBeGreaterThan(0);
    let rejected = 0;
    fc.assert(
      fc.property(
        fc.constantFrom(...files),
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        ({ file, text }, ms) => {
          const mutated = ms.reduce((lines, m) => m(lines), text.split('\n')).join('\n');
          try {
            parseScenario(mutated, file);
          } catch (err) {
            if (!(err instanceof ScenarioError)) throw err;
            rejected++;
            expect(err.issues.length).toBeGreaterThan(0);
            for (const issue of err.issues) {
              expect(issue.file).toBe(file);
              expect(issue.line).toBeGreaterThanOrEqual(1);
              expect(issue.column).toBeGreaterThanOrEqual(1);
              expect(issue.message.length).toBeGreaterThan(0);
              expect(issue.message).not.toMatch(/\n\s+at /);
            }
          }
        },
      ),
      { numRuns: 2_500, seed: 20261123 },
    );
    // The mutations must actually break scenarios, or this test checks nothing.
    expect(rejected).toBeGreaterThan(1_000);
  });
});
