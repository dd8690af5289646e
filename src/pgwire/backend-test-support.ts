/**
 * Backend messages as a PostgreSQL server writes them, for unit tests (pg-protocol ships no builder for
 * the server side). Used by `*.test.ts` in this folder only.
 */

function message(type: string, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

const int32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};
const int16 = (n: number) => {
  const b = Buffer.alloc(2);
  b.writeInt16BE(n);
  return b;
};
const cstring = (s: string) => Buffer.from(`${s}\0`);

export const be = {
  auth: (code: number, extra: Buffer = Buffer.alloc(0)) => message('R', int32(code), extra),
  keyData: (pid: number, key: number) => message('K', int32(pid), int32(key)),
  parameterStatus: (name: string, value: string) => message('S', cstring(name), cstring(value)),
  ready: (status: 'I' | 'T' | 'E') => message('Z', Buffer.from(status)),
  parseComplete: () => message('1'),
  bindComplete: () => message('2'),
  closeComplete: () => message('3'),
  noData: () => message('n'),
  portalSuspended: () => message('s'),
  emptyQuery: () => message('I'),
  parameterDescription: (...oids: number[]) => message('t', int16(oids.length), ...oids.map(int32)),
  rowDescription: (name: string) =>
    message('T', int16(1), cstring(name), int32(0), int16(0), int32(23), int16(4), int32(-1), int16(0)),
  dataRow: (value: string) => message('D', int16(1), int32(Buffer.byteLength(value)), Buffer.from(value)),
  commandComplete: (tag: string) => message('C', cstring(tag)),
  error: (sqlstate: string, text: string) =>
    message(
      'E',
      Buffer.from('SERROR\0'),
      Buffer.from(`C${sqlstate}\0`),
      Buffer.from(`M${text}\0`),
      Buffer.from([0]),
    ),
  notice: (text: string) =>
    message('N', Buffer.from('SNOTICE\0'), Buffer.from(`M${text}\0`), Buffer.from([0])),
  notification: (pid: number, channel: string, payload: string) =>
    message('A', int32(pid), cstring(channel), cstring(payload)),
  copyIn: () => message('G', Buffer.from([0]), int16(1), int16(0)),
  copyOut: () => message('H', Buffer.from([0]), int16(1), int16(0)),
  copyData: (data: string) => message('d', Buffer.from(data)),
  copyDone: () => message('c'),
  negotiateProtocolVersion: (minor: number, ...options: string[]) =>
    message('v', int32(minor), int32(options.length), ...options.map(cstring)),
};
