import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseScenario } from '../src/scenario/load.js';

// The README's complete scenarios are what newcomers copy: each must load as written. They are read as if
// they sat in scenarios/ (their relative paths say so).
const root = join(import.meta.dirname, '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)]
  .map((m) => m[1] ?? '')
  .filter((b) => /^name:/m.test(b) && /^invariants:/m.test(b));

describe('README scenarios', () => {
  it('holds at least the two complete scenarios (Test your own service, A scenario)', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(2);
  });
  it.each(blocks.map((b) => [b.match(/^name: (.*)$/m)?.[1] ?? '?', b]))(
    '%s loads without a problem',
    (_, text) => {
      expect(() => parseScenario(text, join(root, 'scenarios', 'readme.yaml'))).not.toThrow();
    },
  );
});
