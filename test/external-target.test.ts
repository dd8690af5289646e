import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunReport } from '../src/report/types.js';
import { runScenario } from '../src/run.js';
import { loadScenario } from '../src/scenario/load.js';
import { cli } from './helpers.js';
import { startPostgres } from './postgres.js';

describe('external targets (target.url)', () => {
  it('a non-loopback target.url without --allow-remote exits 2 before sending anything', () => {
    const started = Date.now();
    const r = cli(['run', 'test/fixtures/external-remote.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/target\.url points at 203\.0\.113\.10, which is not this machine/);
    expect(r.stderr).toMatch(/hint: .*--allow-remote/);
    // Nothing was attempted: no connection timeout was waited for (203.0.113.0/24 is TEST-NET-3).
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('a running loopback target is loaded without being started or stopped', async () => {
    let hits = 0;
    const server = createServer((_req, res) => {
      hits++;
      res.writeHead(200).end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const dir = mkdtempSync(join(tmpdir(), 'whatbreaks-external-'));
    const file = join(dir, 'external.yaml');
    writeFileSync(
      file,
      `target:\n  url: http://127.0.0.1:${port}\nload:\n  type: burst\n  requests: 5\n  warmupPath: /\n  request: { method: GET, path: /x }\ninvariants:\n  - type: responses\n    name: all-ok\n    allowed: [200]\ntrials: 2\n`,
    );
    try {
      const { report, reportFile } = await runScenario(loadScenario(file), { outDir: join(dir, 'run') });
      expect(report.environment.kind).toBe('external');
      expect(report.verdict).toBe('pass');
      expect(hits).toBeGreaterThanOrEqual(10);
      expect((JSON.parse(readFileSync(reportFile, 'utf8')) as RunReport).summary.passed).toBe(2);
      // Still running: whatbreaks does not own it.
      expect(server.listening).toBe(true);
    } finally {
      server.close();
    }
  });

  it('an existing database is never re-created: schema files are refused with database.url', () => {
    const dir = mkdtempSync(join(tmpdir(), 'whatbreaks-external-'));
    writeFileSync(join(dir, 's.sql'), 'CREATE TABLE t (id int);');
    const file = join(dir, 'db.yaml');
    writeFileSync(
      file,
      'target:\n  url: http://127.0.0.1:9\ndatabase:\n  url: postgres://u:p@127.0.0.1:5432/app\n  schema: s.sql\nload:\n  type: burst\n  requests: 1\n  request: { path: / }\ninvariants:\n  - type: responses\n    name: ok\n    allowed: [200]\n',
    );
    expect(() => loadScenario(file)).toThrow(/database\.schema: not with database\.url/);
  });

  it('an existing database: a setup PostgreSQL rejects ends the run with SCENARIO_INVALID naming database.setup', async () => {
    const pg = await startPostgres();
    const server = createServer((_req, res) => res.writeHead(200).end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const dir = mkdtempSync(join(tmpdir(), 'whatbreaks-external-'));
    const file = join(dir, 'setup.yaml');
    writeFileSync(
      file,
      `target:\n  url: http://127.0.0.1:${port}\ndatabase:\n  url: ${pg.db.url}\n  setup: "CREATE TABLE t (id int,)"\nload:\n  type: burst\n  requests: 2\n  warmupPath: /\n  request: { path: /x }\ninvariants:\n  - type: responses\n    name: ok\n    allowed: [200]\ntrials: 1\n`,
    );
    try {
      const { report } = await runScenario(loadScenario(file), { outDir: join(dir, 'run') });
      expect(report.verdict).toBe('unknown');
      expect(report.error).toMatchObject({ code: 'SCENARIO_INVALID' });
      expect(report.error?.message).toMatch(/^database\.setup:1:24: PostgreSQL rejected it: syntax error/);
    } finally {
      server.close();
      await pg.stop();
    }
  });
});
