import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ScenarioError } from '../src/errors.js';
import { parseScenario } from '../src/scenario/load.js';
import { ROOT } from './helpers.js';
import { mutate, mutation } from './scenario-mutations.js';

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

describe('scenario fuzzing', () => {
  it('2,000+ mutated scenarios: each loads or fails with located issues, never anything else', () => {
    expect(files.length).toBeGreaterThan(0);
    let rejected = 0;
    fc.assert(
      fc.property(
        fc.constantFrom(...files),
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        ({ file, text }, ms) => {
          const mutated = mutate(text, ms);
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
