import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, expect, it } from 'vitest';
import { local } from '../src/env/local.js';
import { pendingCleanups } from '../src/env/teardown.js';
import type { StartedEnvironment } from '../src/env/types.js';

/**
 * The protocol proxy's SQL rewrite (SQL mutants) is in place from the target's first connection: a
 * statement the target prepares while it starts, before it is healthy, is rewritten too. Real embedded
 * PostgreSQL, a real target process (`fixtures/startup-sql-server.mjs`, node-postgres).
 */
const runDir = mkdtempSync(join(tmpdir(), 'whatbreaks-pgwire-startup-'));
let env: StartedEnvironment | undefined;
afterAll(async () => {
  await env?.stop();
  expect(pendingCleanups()).toEqual([]);
  rmSync(runDir, { recursive: true, force: true });
});

it('a statement the target prepares at startup goes through the rewrite', async () => {
  const seen: string[] = [];
  env = await local.start({
    target: {
      variant: 'default',
      command: [process.execPath, join(import.meta.dirname, 'fixtures', 'startup-sql-server.mjs')],
      cwd: join(import.meta.dirname, '..'),
      env: {},
      portEnv: 'PORT',
      health: { path: '/health', timeoutMs: 30_000, intervalMs: 50 },
    },
    runDir,
    maxConnections: 20,
    databaseProxy: {
      protocol: 'postgres',
      rewriteSql: (sql) => {
        seen.push(sql);
        return sql.replace("'as written'", "'rewritten'");
      },
    },
  });
  expect(seen).toContain("SELECT 'as written' AS said");
  const res = await request(new URL('/startup', env.targetUrl));
  expect(await res.body.text()).toBe('rewritten\n');
}, 120_000);
