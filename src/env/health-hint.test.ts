import { describe, expect, it } from 'vitest';
import { unhealthyHint } from './health-hint.js';

describe('unhealthyHint', () => {
  const base = {
    block: 'target',
    path: '/health',
    port: 41327,
    portEnv: 'PORT',
    portInCommand: false,
    timeoutMs: 30_000,
  };

  it('nothing listening: names the port and the variable it came in, not only the timeout', () => {
    const h = unhealthyHint({ ...base, lastError: 'ECONNREFUSED' });
    expect(h).toMatch(/nothing listened on 127\.0\.0\.1:41327/);
    expect(h).toMatch(/given port 41327 in \$PORT/);
    expect(h).toMatch(/read the PORT environment variable, or set target\.portEnv/);
  });

  it('{{port}} in the command is named too', () => {
    expect(
      unhealthyHint({ ...base, portEnv: 'APP_PORT', portInCommand: true, lastError: 'ECONNREFUSED' }),
    ).toMatch(/given port 41327 in \$APP_PORT and as \{\{port\}\} in its command/);
  });

  it('a 404 on the health path: set health.path (of the block it belongs to)', () => {
    const h = unhealthyHint({ ...base, block: 'dependencies.upstream', lastStatus: 404 });
    expect(h).toMatch(/GET \/health on port 41327 answered 404: set dependencies\.upstream\.health\.path/);
  });

  it('a 503 while starting: answer 2xx when ready, or raise timeoutMs', () => {
    expect(unhealthyHint({ ...base, lastStatus: 503 })).toMatch(
      /raise target\.health\.timeoutMs \(now 30000 ms\)/,
    );
  });
});
