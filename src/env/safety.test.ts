import { describe, expect, it } from 'vitest';
import { WhatbreaksError } from '../errors.js';
import { checkAddresses, isLoopback } from './safety.js';

describe('safety', () => {
  it('knows loopback', () => {
    for (const h of [
      'localhost',
      '127.0.0.1',
      '127.1.2.3',
      '[::1]',
      '::1',
      'api.localhost',
      '[::ffff:7f00:1]',
      '::ffff:127.0.0.2',
    ])
      expect(isLoopback(h)).toBe(true);
    for (const h of [
      '10.0.0.1',
      '192.168.1.1',
      'example.com',
      '::2',
      '128.0.0.1',
      'localhost.example.com',
      '::ffff:a00:1',
    ]) {
      expect(isLoopback(h)).toBe(false);
    }
  });

  it('refuses a remote address unless allowed, and warns when allowed', () => {
    const remote = [{ what: 'target.url', url: 'http://staging.example.com:8080' }];
    expect(() => checkAddresses(remote, false)).toThrow(WhatbreaksError);
    try {
      checkAddresses(remote, false);
    } catch (err) {
      expect((err as WhatbreaksError).code).toBe('REMOTE_NOT_ALLOWED');
      expect((err as WhatbreaksError).hint).toMatch(/--allow-remote/);
    }
    expect(checkAddresses(remote, true)).toEqual([expect.stringMatching(/staging\.example\.com/)]);
    expect(checkAddresses([{ what: 'target.url', url: 'http://127.0.0.1:3000' }], false)).toEqual([]);
  });
});
