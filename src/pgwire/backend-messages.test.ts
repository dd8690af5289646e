import { describe, expect, it } from 'vitest';
import { Backend, decodeBackend, keepBackendBody, rowsOfTag } from './backend-messages.js';
import { be } from './backend-test-support.js';

const decode = (raw: Buffer) => decodeBackend(raw[0]!, raw);

describe('decodeBackend', () => {
  it('reads ReadyForQuery status, CommandComplete tags and ErrorResponse fields through pg-protocol', () => {
    expect(decode(be.ready('T'))).toEqual({ type: 'ReadyForQuery', status: 'T' });
    expect(decode(be.commandComplete('INSERT 0 3'))).toEqual({ type: 'CommandComplete', tag: 'INSERT 0 3' });
    expect(decode(be.error('40P01', 'deadlock detected'))).toEqual({
      type: 'ErrorResponse',
      error: { sqlstate: '40P01', severity: 'ERROR', message: 'deadlock detected' },
    });
  });

  it('reads the startup messages: authentication method, backend pid, parameters', () => {
    expect(decode(be.auth(10, Buffer.from('SCRAM-SHA-256\0\0')))).toEqual({
      type: 'Authentication',
      method: 'sasl',
    });
    expect(decode(be.auth(5, Buffer.from([1, 2, 3, 4])))).toEqual({ type: 'Authentication', method: 'md5' });
    expect(decode(be.auth(3))).toEqual({ type: 'Authentication', method: 'cleartext' });
    expect(decode(be.auth(7))).toEqual({ type: 'Authentication', method: 'gss' });
    expect(decode(be.keyData(4242, 7))).toEqual({ type: 'BackendKeyData', pid: 4242, keyHex: '00000007' });
    expect(decode(be.parameterStatus('TimeZone', 'UTC'))).toEqual({
      type: 'ParameterStatus',
      name: 'TimeZone',
      value: 'UTC',
    });
    expect(decode(be.negotiateProtocolVersion(0, '_pq_.x'))).toEqual({
      type: 'NegotiateProtocolVersion',
      newestMinor: 0,
      unrecognized: ['_pq_.x'],
    });
  });

  it('reads notifications', () => {
    expect(decode(be.notification(99, 'jobs', 'done'))).toEqual({
      type: 'NotificationResponse',
      pid: 99,
      channel: 'jobs',
      payload: 'done',
    });
  });

  it('does not decode (or keep) bodies nobody needs', () => {
    expect(keepBackendBody(Backend.DataRow)).toBe(false);
    expect(keepBackendBody(Backend.CopyData)).toBe(false);
    expect(keepBackendBody(Backend.ReadyForQuery)).toBe(true);
    expect(decodeBackend(Backend.DataRow, undefined)).toEqual({ type: 'Other', code: Backend.DataRow });
  });

  it('counts rows from command tags', () => {
    expect(rowsOfTag('INSERT 0 3')).toBe(3);
    expect(rowsOfTag('UPDATE 0')).toBe(0);
    expect(rowsOfTag('SELECT 12')).toBe(12);
    expect(rowsOfTag('BEGIN')).toBeUndefined();
  });
});
