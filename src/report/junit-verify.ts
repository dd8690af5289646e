import type { VerifyReport, VerifySide } from '../verify.js';
import { type JunitSuite, runSuite } from './junit.js';
import type { RunReport } from './types.js';

/**
 * JUnit for CI: a `verify` suite with the two claims (the baseline reproduces; the candidate holds)
 * and the candidate's per-invariant, per-trial cases. The baseline's expected violations are not
 * failures here; they are in `baseline/junit.xml`.
 */
export function verifySuites(v: VerifyReport, candidate: RunReport): JunitSuite[] {
  const classname = `whatbreaks.${v.scenario.name}.verify`;
  const time = v.durationMs / 1000;
  const b = v.baseline;
  const c = v.candidate;
  const sideError = (s: VerifySide) =>
    s.error
      ? ({
          kind: 'error',
          message: `${s.error.code}: ${s.error.message.split('\n')[0]}`,
          type: s.error.code,
          text: s.error.message,
        } as const)
      : undefined;
  const suite: JunitSuite = {
    name: `verify ${v.scenario.name}: ${b.spec} → ${c.spec}`,
    timestamp: v.startedAt.replace(/(\.\d+)?Z$/, ''),
    time,
    properties: { verdict: v.verdict, baseline: b.spec, candidate: c.spec, explanation: v.explanation },
    cases: [
      {
        classname,
        name: `baseline (${b.spec}) reproduces the failure`,
        time: 0,
        outcome:
          sideError(b) ??
          (b.failed > 0
            ? { kind: 'pass' }
            : {
                kind: 'failure',
                message: 'not reproduced: the scenario cannot judge the fix',
                type: 'verify.not-reproduced',
                text: v.explanation,
              }),
      },
      {
        classname,
        name: `candidate (${c.spec}) holds every invariant`,
        time: 0,
        outcome:
          sideError(c) ??
          (c.failed > 0
            ? {
                kind: 'failure',
                message: 'fix not validated',
                type: 'verify.candidate-violates',
                text: v.explanation,
              }
            : c.passed === 0
              ? { kind: 'skipped', message: 'no candidate trial could be judged' }
              : { kind: 'pass' }),
      },
    ],
  };
  return [suite, runSuite(candidate, `candidate (${c.spec}): ${v.scenario.name} [${c.variant}]`)];
}
