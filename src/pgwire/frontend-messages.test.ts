import { serialize } from 'pg-protocol';
import { describe, expect, it } from 'vitest';
import { decodeFrontend, decodeStartupPacket, frontendName } from './frontend-messages.js';

describe('decodeStartupPacket', () => {
  it('tells StartupMessage (with its version and parameters), SSLRequest, GSSENCRequest and CancelRequest apart', () => {
    expect(decodeStartupPacket(serialize.startup({ user: 'u', database: 'd' }))).toEqual({
      kind: 'startup',
      major: 3,
      minor: 0,
      parameters: { user: 'u', database: 'd', client_encoding: 'UTF8' },
    });
    expect(decodeStartupPacket(serialize.requestSsl())).toEqual({ kind: 'ssl-request' });
    const gss = Buffer.alloc(8);
    gss.writeInt32BE(8, 0);
    gss.writeInt32BE(80877104, 4);
    expect(decodeStartupPacket(gss)).toEqual({ kind: 'gssenc-request' });
    expect(decodeStartupPacket(serialize.cancel(4242, 0x01020304))).toEqual({
      kind: 'cancel',
      pid: 4242,
      keyHex: '01020304',
    });
    const v2 = Buffer.alloc(8);
    v2.writeInt32BE(8, 0);
    v2.writeInt32BE(2 << 16, 4);
    expect(decodeStartupPacket(v2)).toEqual({ kind: 'unknown', code: 2 << 16 });
  });
});

describe('decodeFrontend', () => {
  it('reads Query, Parse (with parameter types) and Execute', () => {
    expect(decodeFrontend(serialize.query('SELECT 1'))).toEqual({ type: 'Query', sql: 'SELECT 1' });
    expect(decodeFrontend(serialize.parse({ name: 's1', text: 'SELECT $1', types: [23] }))).toEqual({
      type: 'Parse',
      statement: 's1',
      sql: 'SELECT $1',
      paramTypes: [23],
    });
    expect(decodeFrontend(serialize.execute({ portal: 'p', rows: 50 }))).toEqual({
      type: 'Execute',
      portal: 'p',
      maxRows: 50,
    });
  });

  it('reads Bind values: text as text, binary as hex, NULL as null', () => {
    const m = decodeFrontend(
      serialize.bind({ portal: 'p', statement: 's1', values: ['héllo', null, Buffer.from([0xde, 0xad])] }),
    );
    expect(m).toEqual({
      type: 'Bind',
      portal: 'p',
      statement: 's1',
      params: [{ format: 'text', value: 'héllo' }, null, { format: 'binary', hex: 'dead' }],
      resultFormats: [0],
    });
  });

  it('applies a single format code to every value', () => {
    // Bind '' '' with one format code (1) for two binary values.
    const body = Buffer.concat([
      Buffer.from([0, 0]),
      Buffer.from([0, 1, 0, 1]),
      Buffer.from([0, 2, 0, 0, 0, 1, 0xff, 0, 0, 0, 1, 0x01]),
      Buffer.from([0, 0]),
    ]);
    const raw = Buffer.concat([Buffer.from([0x42, 0, 0, 0, body.length + 4]), body]);
    expect(decodeFrontend(raw)).toMatchObject({
      params: [
        { format: 'binary', hex: 'ff' },
        { format: 'binary', hex: '01' },
      ],
    });
  });

  it('reads Describe, Close, Sync, Flush, Terminate and the COPY messages', () => {
    expect(decodeFrontend(serialize.describe({ type: 'S', name: 'x' }))).toEqual({
      type: 'Describe',
      target: 'statement',
      name: 'x',
    });
    expect(decodeFrontend(serialize.close({ type: 'P', name: '' }))).toEqual({
      type: 'Close',
      target: 'portal',
      name: '',
    });
    expect(decodeFrontend(serialize.sync())).toEqual({ type: 'Sync' });
    expect(decodeFrontend(serialize.flush())).toEqual({ type: 'Flush' });
    expect(decodeFrontend(serialize.end())).toEqual({ type: 'Terminate' });
    expect(decodeFrontend(serialize.copyData(Buffer.from('1\n2\n')))).toEqual({ type: 'CopyData', bytes: 4 });
    expect(decodeFrontend(serialize.copyDone())).toEqual({ type: 'CopyDone' });
    expect(decodeFrontend(serialize.copyFail('no'))).toEqual({ type: 'CopyFail', message: 'no' });
    expect(decodeFrontend(serialize.password('pw'))).toEqual({ type: 'Password' });
  });

  it('does not throw on a truncated body', () => {
    expect(decodeFrontend(Buffer.from([0x42, 0, 0, 0, 6, 0x61]))).toMatchObject({
      type: 'Bind',
      portal: 'a',
    });
    expect(frontendName(0x7a)).toBe("'z'");
  });
});
