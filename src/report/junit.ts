import type { InvariantResult } from '../invariants/types.js';
import type { RunReport } from './types.js';

/**
 * `junit.xml` in the Jenkins/Ant dialect every CI understands:
 *
 *   <testsuites name tests failures errors skipped time>
 *     <testsuite name="<scenario> [<variant>]" tests failures errors skipped time timestamp hostname id package>
 *       <properties/>
 *       <testcase classname="<scenario>.<variant>" name="<invariant> (trial N)" time>
 *         <failure message type>summary + witnesses</failure>   — violated
 *         <skipped message/>                                     — unknown, reason in the message
 *       </testcase>
 *       <testcase name="run" …><error …/></testcase>             — the run broke off (report.error)
 *       <system-out/><system-err/>
 *     </testsuite>
 *   </testsuites>
 *
 * One testcase per invariant per trial. Times are seconds. Written by hand (a few elements, careful
 * escaping) rather than with junit-report-builder, which brings lodash + xmlbuilder for the same
 * output. The shape follows the Jenkins JUnit schema (test/fixtures/junit.xsd), which a test checks
 * with `xmllint --schema`.
 */

/**
 * Escape text for XML 1.0 content or attribute values. Characters XML 1.0 cannot carry at all (most
 * C0 controls, lone surrogates, U+FFFE/FFFF) are replaced by U+FFFD: a witness can hold any bytes.
 */
export function xmlEscape(s: string): string {
  return s
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '\uFFFD')
    .replace(
      /[&<>"']/g,
      (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!,
    )
    .replace(/\r/g, '&#13;')
    .replace(/\t/g, '&#9;');
}

/** Attribute values additionally keep their newlines. */
function attr(s: string): string {
  return xmlEscape(s).replace(/\n/g, '&#10;');
}

function witnessText(inv: InvariantResult, max = 20): string {
  const lines = inv.witnesses.slice(0, max).map((w) =>
    Object.entries(w)
      .filter(([, v]) => v !== null && v !== undefined)
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join('  '),
  );
  if (inv.witnessCount > lines.length) lines.push(`… ${inv.witnessCount - lines.length} more in report.json`);
  return lines.join('\n');
}

export interface JunitCase {
  classname: string;
  name: string;
  /** Seconds. */
  time: number;
  outcome:
    | { kind: 'pass' }
    | { kind: 'failure' | 'error'; message: string; type: string; text: string }
    | { kind: 'skipped'; message: string };
}

export interface JunitSuite {
  name: string;
  /** ISO 8601 without zone suffix, as the schema's `ISO8601_DATETIME_PATTERN` wants. */
  timestamp: string;
  /** Seconds. */
  time: number;
  properties: Record<string, string>;
  cases: JunitCase[];
}

/** The testcases of a run: one per invariant per trial, plus one `run` error if the run broke off. */
export function runSuite(r: RunReport, name = `${r.scenario.name} [${r.variant}]`): JunitSuite {
  const classname = `whatbreaks.${r.scenario.name}.${r.variant}`;
  const cases: JunitCase[] = [];
  for (const t of r.trials) {
    const time = t.durationMs / 1000;
    for (const inv of t.invariants) {
      const caseName = `${inv.name} (trial ${t.trial})`;
      if (inv.holds === true) cases.push({ classname, name: caseName, time, outcome: { kind: 'pass' } });
      else if (inv.holds === false)
        cases.push({
          classname,
          name: caseName,
          time,
          outcome: {
            kind: 'failure',
            message: inv.summary,
            type: `invariant.${inv.type}`,
            text: `${inv.summary}\n\nwitnesses (${inv.witnessCount}):\n${witnessText(inv)}`,
          },
        });
      else
        cases.push({
          classname,
          name: caseName,
          time,
          outcome: {
            kind: 'skipped',
            message: [inv.summary, t.inconclusive, t.error].filter(Boolean).join('; '),
          },
        });
    }
    // A trial judged unknown by the load (too loose a burst) while every invariant held: say so.
    if (t.verdict === 'unknown' && t.invariants.every((i) => i.holds === true)) {
      cases.push({
        classname,
        name: `trial ${t.trial}`,
        time,
        outcome: { kind: 'skipped', message: t.inconclusive ?? t.error ?? 'trial could not be judged' },
      });
    }
  }
  if (r.error) {
    cases.push({
      classname,
      name: 'run',
      time: 0,
      outcome: {
        kind: 'error',
        message: `${r.error.code}: ${r.error.message.split('\n')[0]}`,
        type: r.error.code,
        text: `${r.error.message}${r.error.hint ? `\nhint: ${r.error.hint}` : ''}`,
      },
    });
  }
  return {
    name,
    timestamp: r.startedAt.replace(/(\.\d+)?Z$/, ''),
    time: r.durationMs / 1000,
    properties: {
      scenario: r.scenario.name,
      'scenario.file': r.scenario.file,
      variant: r.variant,
      verdict: r.verdict,
      environment: r.environment.kind,
      reproductionRate: String(r.summary.reproductionRate),
    },
    cases,
  };
}

/** Serialize suites as one `<testsuites>` document. */
export function renderJunitSuites(suites: readonly JunitSuite[], name = 'whatbreaks'): string {
  const count = (s: JunitSuite, k: JunitCase['outcome']['kind']) =>
    s.cases.filter((c) => c.outcome.kind === k).length;
  const total = (k: JunitCase['outcome']['kind']) => suites.reduce((n, s) => n + count(s, k), 0);
  const sec = (x: number) => x.toFixed(3);
  const out: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${attr(name)}" tests="${suites.reduce((n, s) => n + s.cases.length, 0)}" failures="${total('failure')}" errors="${total('error')}" skipped="${total('skipped')}" time="${sec(suites.reduce((n, s) => n + s.time, 0))}">`,
  ];
  suites.forEach((s, id) => {
    out.push(
      `  <testsuite name="${attr(s.name)}" package="whatbreaks" id="${id}" hostname="localhost" timestamp="${attr(s.timestamp)}" tests="${s.cases.length}" failures="${count(s, 'failure')}" errors="${count(s, 'error')}" skipped="${count(s, 'skipped')}" time="${sec(s.time)}">`,
      '    <properties>',
      ...Object.entries(s.properties).map(
        ([k, v]) => `      <property name="${attr(k)}" value="${attr(v)}"/>`,
      ),
      '    </properties>',
    );
    for (const c of s.cases) {
      const open = `    <testcase classname="${attr(c.classname)}" name="${attr(c.name)}" time="${sec(c.time)}"`;
      const o = c.outcome;
      if (o.kind === 'pass') out.push(`${open}/>`);
      else if (o.kind === 'skipped')
        out.push(`${open}>`, `      <skipped message="${attr(o.message)}"/>`, '    </testcase>');
      else
        out.push(
          `${open}>`,
          `      <${o.kind} message="${attr(o.message)}" type="${attr(o.type)}">${xmlEscape(o.text)}</${o.kind}>`,
          '    </testcase>',
        );
    }
    out.push('    <system-out/>', '    <system-err/>', '  </testsuite>');
  });
  out.push('</testsuites>', '');
  return out.join('\n');
}

export function renderJunit(r: RunReport): string {
  return renderJunitSuites([runSuite(r)]);
}
