import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixtureReport } from './formats-fixture.js';
import { renderJunit, xmlEscape } from './junit.js';

const XSD = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'junit.xsd');
const hasXmllint = spawnSync('xmllint', ['--version']).status === 0;

describe('junit.xml', () => {
  const xml = renderJunit(fixtureReport());

  it('has one testcase per invariant per trial: violated → failure with witnesses, unknown → skipped', () => {
    expect(xml.match(/<testcase /g)).toHaveLength(4);
    expect(xml).toMatch(/<testsuites name="whatbreaks" tests="4" failures="1" errors="0" skipped="1"/);
    expect(xml).toMatch(
      /name="no-overbooking \(trial 2\)"[^>]*>\n\s*<failure message="truck 1 holds 3 bookings/,
    );
    expect(xml).toMatch(/witnesses \(5\):\ntruck=1/);
    expect(xml).toMatch(/… 3 more in report.json/);
    expect(xml).toMatch(/name="answers \(trial 2\)"[^>]*>\n\s*<skipped message="could not tell"/);
  });

  it('escapes markup, quotes and characters XML 1.0 cannot hold', () => {
    expect(xml).not.toContain('<script>');
    expect(xml).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &apos;q&apos; \uFFFD end');
    expect(xmlEscape('a\u0000b\u001fc\uFFFEd\uD800e')).toBe('a\uFFFDb\uFFFDc\uFFFDd\uFFFDe');
    expect(xmlEscape('tab\there\r')).toBe('tab&#9;here&#13;');
  });

  it('reports a run that broke off as an error testcase', () => {
    const r = fixtureReport();
    r.error = { code: 'TARGET_FAILED', message: 'replica 1 exited\n  | boom', hint: 'see logs' };
    const x = renderJunit(r);
    expect(x).toMatch(
      /<testcase classname="[^"]+" name="run" time="0.000">\n\s*<error message="TARGET_FAILED: replica 1 exited" type="TARGET_FAILED">/,
    );
    expect(x).toMatch(/errors="1"/);
  });

  it.skipIf(!hasXmllint)(
    'validates against the JUnit schema (xmllint --schema test/fixtures/junit.xsd)',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'whatbreaks-junit-'));
      const file = join(dir, 'junit.xml');
      writeFileSync(file, xml);
      expect(
        execFileSync('xmllint', ['--noout', '--schema', XSD, file], { encoding: 'utf8', stdio: 'pipe' }),
      ).toBe('');
      // The schema bites: a testsuite without its required `tests` count does not validate.
      writeFileSync(file, xml.replace(/(<testsuite name="[^"]*" [^>]*?) tests="\d+"/, '$1'));
      expect(spawnSync('xmllint', ['--noout', '--schema', XSD, file]).status).not.toBe(0);
    },
  );
  if (!hasXmllint)
    console.warn('junit.test.ts: xmllint missing (apt-get install libxml2-utils): schema check skipped');
});
