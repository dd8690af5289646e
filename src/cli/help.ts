import type { Command } from 'commander';
import { EXIT_CODE_TABLE } from './exit-codes.js';

/**
 * What `--help` adds below commander's option list: examples per command, and for the program the
 * exit codes (from `exit-codes.ts`, the one table) and where to read more. A usage error prints one line
 * and a pointer to the command's `--help`, not the whole help (`usageErrorsPointToHelp`).
 */
export const EXAMPLES: Readonly<Record<string, readonly (readonly [command: string, what: string])[]>> = {
  whatbreaks: [
    ['whatbreaks list', 'the scenarios in ./scenarios, with their variants'],
    ['whatbreaks run scenarios/double-booking.yaml --variant buggy', 'reproduce the race (exits 1)'],
    [
      'whatbreaks verify scenarios/double-booking.yaml --baseline buggy --candidate fixed',
      'judge a fix (exits 0 when validated)',
    ],
    ['whatbreaks report reports/<run>/', "re-render a run folder's report.md, report.html, junit.xml"],
  ],
  run: [
    ['whatbreaks run scenarios/double-booking.yaml --variant buggy', "the scenario's trials, buggy variant"],
    ['whatbreaks run scenarios/single-completion.yaml --trials 3 --out /tmp/run1', '3 trials into /tmp/run1'],
    ['whatbreaks run scenarios/double-booking.yaml --env local -q', 'no containers; only the summary'],
  ],
  verify: [
    [
      'whatbreaks verify scenarios/double-booking.yaml --baseline buggy --candidate fixed',
      'two variants of the scenario',
    ],
    [
      'whatbreaks verify scenarios/double-booking.yaml --baseline buggy --candidate ../pr-123 --trials 59',
      'a checkout of the fix; 59 clean trials bound its failure rate below 5 %',
    ],
    [
      'whatbreaks verify scenarios/single-completion.yaml --baseline buggy --candidate fixed --mutants --mutant-trials 2 --min-mutation-score 1',
      'then remove each SQL protection of the fix; exit 1 if the scenario misses one (files in <out>/mutants/)',
    ],
  ],
  mutate: [
    [
      'whatbreaks mutate scenarios/single-completion.yaml --variant fixed --trials 2',
      'mutation.json, mutation.md, mutation.html and a run folder per mutant',
    ],
    ['whatbreaks mutate scenarios/double-booking.yaml --variant fixed --min-mutation-score 1', 'a CI gate'],
  ],
  report: [
    ['whatbreaks report reports/double-booking-buggy-2026-…/', 'a run folder (its report.json)'],
    ['whatbreaks report reports/…/report.json --out /tmp/html', 'render elsewhere'],
    ['whatbreaks report reports/…-verify-…/verify.json', 'a verify: writes verify.md'],
  ],
  list: [
    ['whatbreaks list', 'the scenarios in ./scenarios'],
    ['whatbreaks list path/to/scenarios --json', 'another folder, as JSON'],
  ],
};

function examplesText(name: string): string {
  const rows = EXAMPLES[name] ?? [];
  if (rows.length === 0) return '';
  return `\nExamples:\n${rows.map(([cmd, what]) => `  $ ${cmd}\n      ${what}`).join('\n')}\n`;
}

function exitCodesText(): string {
  return `\nExit codes:\n${EXIT_CODE_TABLE.map(([code, meaning]) => `  ${code.padStart(3)}  ${meaning}`).join('\n')}\n\nThe rules behind each code: docs/verdicts.md. Errors carry a stable code (TARGET_FAILED, …) and a hint.\n`;
}

/** Examples on the program and every command; exit codes on the program and on `run`, `verify`, `mutate`. */
export function addHelpTexts(program: Command): void {
  program.addHelpText('after', `${examplesText('whatbreaks')}${exitCodesText()}`);
  for (const cmd of program.commands) {
    const name = cmd.name();
    const judged = name === 'run' || name === 'verify' || name === 'mutate';
    cmd.addHelpText('after', `${examplesText(name)}${judged ? exitCodesText() : ''}`);
  }
}

/**
 * A usage error (unknown option, bad value, missing argument) prints commander's one-line `error: …` and
 * then this pointer instead of the whole help.
 */
export function usageErrorsPointToHelp(program: Command): void {
  program.showHelpAfterError(`(see: whatbreaks --help)`);
  for (const cmd of program.commands) {
    if (cmd.name() === 'help') continue;
    cmd.showHelpAfterError(`(see: whatbreaks ${cmd.name()} --help)`);
  }
}
