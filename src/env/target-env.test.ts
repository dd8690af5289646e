import { describe, expect, it } from 'vitest';
import { TARGET_ENVIRONMENT_DOCS, targetDatabaseEnv } from './target-env.js';

describe('target environment', () => {
  it('the documented table names exactly the variables a replica gets (plus PORT and <NAME>_URL)', () => {
    const env = targetDatabaseEnv(1, { host: 'h', port: 5, user: 'u', password: 'p', database: 'd' });
    const documented = TARGET_ENVIRONMENT_DOCS.map((r) => r.name).filter(
      (n) => n !== 'PORT' && n !== '<NAME>_URL',
    );
    expect(Object.keys(env).sort()).toEqual(documented.sort());
    expect(env).toMatchObject({
      INSTANCE_ID: '1',
      DATABASE_URL: 'postgres://u:p@h:5/d',
      PGAPPNAME: 'whatbreaks-target-1',
    });
  });
});
