import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import getPort from 'get-port';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { CLI, cli, ROOT } from './helpers.js';

describe('whatbreaks validate', () => {
  it('reports every problem of a file in one run: key typo, bursts, missing name, missing file, "409"; exit 2', () => {
    const r = cli(['validate', 'test/fixtures/many-problems.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/5 problems/);
    expect(r.stderr).toMatch(/:4:3: target\.helth: unknown key 'helth'; did you mean 'health'\?/);
    expect(r.stderr).toMatch(
      /:6:3: database\.schema: file not found: \.\.\/\.\.\/targets\/jobs\/no-such-schema\.sql/,
    );
    expect(r.stderr).toMatch(/:8:3: load\.type: unknown type 'bursts'; did you mean 'burst'\?/);
    expect(r.stderr).toMatch(/:12:5: invariants\.0\.name: required field 'name' is missing/);
    expect(r.stderr).toMatch(/invariants\.0\.allowed\.1: "409" is a string/);
    expect(r.stderr).toMatch(/hint: one of: burst, idle/);
    // The README's threshold example in the same file is fine: it is not among the problems.
    expect(r.stderr).not.toMatch(/invariants\.1/);
  });

  it('exit 0 and one ok line per valid file (every scenario in scenarios/)', () => {
    const files = readdirSync(join(ROOT, 'scenarios'))
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => join('scenarios', f));
    const r = cli(['validate', ...files]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(files.length);
  });

  it('run checks the same way, before starting anything', () => {
    const r = cli(['run', 'test/fixtures/many-problems.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/scenario is invalid \(5 problems\)/);
    expect(r.stderr).toMatch(/did you mean 'burst'\?/);
  });
});

describe('a target that never answers its health check', () => {
  it('names the path polled, the port given and the variable it came in', () => {
    const r = cli([
      'run',
      'test/fixtures/never-listens.yaml',
      '--out',
      mkdtempSync(join(tmpdir(), 'wb-health-')),
    ]);
    expect(r.code).toBe(2);
    const out = r.stdout + r.stderr;
    expect(out).toMatch(/did not become healthy within 1500 ms \(GET \/ready: ECONNREFUSED\)/);
    expect(out).toMatch(/hint: nothing listened on 127\.0\.0\.1:(\d+): it was given port \1 in \$PORT/);
  });
});

describe('whatbreaks schema', () => {
  it('prints the published schema/scenario.schema.json', () => {
    const r = cli(['schema']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(readFileSync(join(ROOT, 'schema', 'scenario.schema.json'), 'utf8'));
  });
});

describe('whatbreaks stub', () => {
  it('upstream listens on --port, answers after --latency-ms, and stops on SIGTERM', async () => {
    const port = await getPort({ host: '127.0.0.1' });
    const child = spawn(
      process.execPath,
      [CLI, 'stub', 'upstream', '--port', String(port), '--latency-ms', '300'],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    try {
      let out = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
      });
      await expect.poll(() => out, { timeout: 20_000 }).toMatch(/upstream listening on 127\.0\.0\.1:/);
      const health = await request(`http://127.0.0.1:${port}/health`);
      expect(health.statusCode).toBe(200);
      await health.body.dump();
      // Alive past the CLI's 3 s exit timer, and the latency option reached the stub (a ratio, not a bound:
      // a charge takes longer than a health check by about the configured latency).
      await new Promise((r) => setTimeout(r, 3_500));
      const t0 = performance.now();
      const charge = await request(`http://127.0.0.1:${port}/charge`, { method: 'POST', body: '{}' });
      const chargeMs = performance.now() - t0;
      expect(charge.statusCode).toBe(200);
      await charge.body.dump();
      const t1 = performance.now();
      await (await request(`http://127.0.0.1:${port}/health`)).body.dump();
      // Half the configured latency as the bound: a loaded machine stretches both requests' times.
      expect(chargeMs - (performance.now() - t1)).toBeGreaterThanOrEqual(150);
      child.kill('SIGTERM');
      const [code] = await once(child, 'exit');
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('payments prints its schema; an unknown stub names the known ones', () => {
    const schema = cli(['stub', 'payments', '--print-schema']);
    expect(schema.code).toBe(0);
    expect(schema.stdout).toBe(readFileSync(join(ROOT, 'targets', 'payments', 'schema.sql'), 'utf8'));
    const bad = cli(['stub', 'upstrem']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/no stub named 'upstrem'/);
    expect(bad.stderr).toMatch(/stubs: upstream, payments/);
  });
});
