import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenario, runScenario, verify } from 'whatbreaks';

/**
 * whatbreaks from a test suite, through the public API (`import … from 'whatbreaks'`, i.e. the built
 * package: run `npm run build` first). Run it with `npx vitest run --config examples/vitest.config.ts`.
 *
 * In your own project: point `loadScenario` at your scenario file; as the candidate, give the variant
 * that holds the fix, or a folder with a checkout of the pull request (e.g. a git worktree).
 */
const scenario = loadScenario(join(import.meta.dirname, '..', 'scenarios', 'single-completion.yaml'));

describe('single completion of a job', () => {
  it('the buggy variant reproduces the race', async () => {
    const { report } = await runScenario(scenario, { variant: 'buggy', trials: 3 });
    expect(report.error).toBeUndefined();
    expect(report.summary.failed).toBeGreaterThan(0);
  });

  it('the fix is validated against the buggy baseline', async () => {
    const { report, outDir } = await verify(scenario, { baseline: 'buggy', candidate: 'fixed', trials: 5 });
    // On failure, the reports (verify.md, baseline/report.html, candidate/report.html) say why.
    expect(report.verdict, `${report.explanation}\nreports: ${outDir}`).toBe('fix validated');
    expect(report.candidate.failed).toBe(0);
    expect(report.candidate.failureBound.exact95).toBeLessThan(0.5);
  });
});
