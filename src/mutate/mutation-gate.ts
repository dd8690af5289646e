/**
 * The `--min-mutation-score` gate of `whatbreaks mutate`: whether the mutation score meets the minimum,
 * and when unknown mutants prevent the judgement. Unknown mutants count neither way; the gate is decided
 * only when it comes out the same whether every unknown mutant would have been killed or survived.
 */
import type { MutationReport } from './mutation-run.js';
import { SURVIVOR_MEANING } from './mutation-run.js';

export type GateOutcome =
  | { pass: true; message: string }
  | { pass: false; exit: 'fail' | 'unknown'; message: string };

/** Judge `report` against `min` (0..1). */
export function judgeMutationScore(
  report: Pick<MutationReport, 'killed' | 'survived' | 'unknown' | 'mutants'>,
  min: number,
): GateOutcome {
  const { killed, survived, unknown } = report;
  const best = killed + survived + unknown ? (killed + unknown) / (killed + survived + unknown) : null;
  const worst = killed + survived + unknown ? killed / (killed + survived + unknown) : null;
  const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
  if (best === null || worst === null)
    return {
      pass: false,
      exit: 'unknown',
      message: 'no mutation point was found: there is no mutation score to hold against the minimum',
    };
  if (best < min) {
    const names = report.mutants.filter((m) => m.outcome === 'survived').map((m) => `  ${m.label}`);
    return {
      pass: false,
      exit: 'fail',
      message: [
        `mutation score ${killed}/${killed + survived} is below the minimum ${pct(min)}: ${survived} mutant(s) survived — ${SURVIVOR_MEANING}:`,
        ...names,
      ].join('\n'),
    };
  }
  if (worst >= min) return { pass: true, message: `mutation score meets the minimum ${pct(min)}` };
  return {
    pass: false,
    exit: 'unknown',
    message: `${unknown} mutant(s) could not be judged (unknown); with them the score could be ${pct(worst)} to ${pct(best)}, on both sides of the minimum ${pct(min)}`,
  };
}
