import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pendingCleanups } from '../src/env/teardown.js';
import { runScenario } from '../src/run.js';
import { loadScenario } from '../src/scenario/load.js';
import { ROOT } from './helpers.js';

describe('two runs at once', () => {
  it('do not collide: own ports, databases, folders and verdicts', async () => {
    const scenario = loadScenario(join(ROOT, 'scenarios', 'single-completion.yaml'));
    const events: string[][] = [[], []];
    const [buggy, fixed] = await Promise.all(
      (['buggy', 'fixed'] as const).map((variant, k) =>
        runScenario(scenario, {
          variant,
          trials: 2,
          outDir: mkdtempSync(join(tmpdir(), `whatbreaks-iso-${variant}-`)),
          onEvent: (e) => {
            if (e.type === 'log') events[k]!.push(e.line);
          },
        }),
      ),
    );
    expect(buggy!.report.verdict).toBe('fail');
    expect(fixed!.report.verdict).toBe('pass');
    expect(buggy!.runDir).not.toBe(fixed!.runDir);
    const ports = events.map((lines) => lines.join('\n').match(/postgres ready on 127\.0\.0\.1:(\d+)/)?.[1]);
    expect(ports[0]).toBeDefined();
    expect(ports[0]).not.toBe(ports[1]);
    expect(pendingCleanups()).toEqual([]);
  });
});
