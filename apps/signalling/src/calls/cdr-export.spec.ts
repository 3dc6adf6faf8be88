import type { CallRecord } from '@wagw/call-state';
import { CDR_COLUMNS, cdrCsvHeader, cdrCsvRows, cdrOf, csvField, decodeCdrCursor, encodeCdrCursor, parseCdrTime } from './cdr-export';

const T = Date.parse('2026-11-28T10:00:00Z');

function record(extra: Partial<CallRecord> = {}): CallRecord {
  return {
    callId: 'call_01M8GVB3GTGVMVVW2Z8Y52NN4D',
    direction: 'outbound',
    state: 'ended',
    version: 9,
    createdAt: T,
    updatedAt: T + 60_000,
    answeredAt: T + 5000,
    endedAt: T + 61_000,
    durationMs: 56_000,
    waDurationS: 56,
    waBillablePulses: 10,
    businessNumber: '15550001111',
    phoneNumberId: '100000000000001',
    userWaId: '15551234567',
    userName: 'Ana',
    agent: '1001',
    endedBy: 'wa',
    endCause: 'completed',
    codec: 'PCMU',
    waSdp: 'v=0\r\n...',
    pbxDialog: '{"callId":"x"}',
    signallingInstance: 'gw-1',
    ...extra,
  };
}

describe('CDR export', () => {
  it("keeps a CDR's fields and leaves out the record's working ones (SDP, SIP dialog, holding process)", () => {
    const cdr = cdrOf(record());
    expect(cdr).toMatchObject({ callId: 'call_01M8GVB3GTGVMVVW2Z8Y52NN4D', waDurationS: 56, waBillablePulses: 10, userName: 'Ana' });
    expect(Object.keys(cdr)).not.toEqual(expect.arrayContaining(['waSdp']));
    for (const working of ['waSdp', 'pbxDialog', 'signallingInstance', 'version', 'state', 'phoneNumberId']) expect(cdr).not.toHaveProperty(working);
    expect(Object.keys(cdr).every((k) => (CDR_COLUMNS as readonly string[]).includes(k))).toBe(true);
  });

  it('writes CSV with a header, ISO times, digits, empty cells for absent fields and CRLF line ends', () => {
    const csv = cdrCsvHeader() + cdrCsvRows([record(), record({ callId: 'call_2', direction: 'inbound', waBillablePulses: undefined, agent: undefined, answeredAt: undefined })]);
    const lines = csv.split('\r\n');
    expect(lines).toHaveLength(4);
    expect(lines[3]).toBe('');
    const header = (lines[0] as string).split(',');
    expect(header).toEqual([...CDR_COLUMNS]);
    const row = (lines[1] as string).split(',');
    const cell = (cells: string[], column: string) => cells[header.indexOf(column)];
    expect(cell(row, 'createdAt')).toBe('2026-11-28T10:00:00.000Z');
    expect(cell(row, 'endedAt')).toBe('2026-11-28T10:01:01.000Z');
    expect(cell(row, 'waBillablePulses')).toBe('10');
    expect(cell(row, 'agent')).toBe('1001');
    const second = (lines[2] as string).split(',');
    expect(second).toHaveLength(CDR_COLUMNS.length);
    expect([cell(second, 'waBillablePulses'), cell(second, 'agent'), cell(second, 'answeredAt')]).toEqual(['', '', '']);
  });

  it('quotes what needs quoting (RFC 4180) and defuses text a spreadsheet would run as a formula', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a, b')).toBe('"a, b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    for (const risky of ['=HYPERLINK("http://x")', '+1', '-2+3', '@SUM(A1)', '\tx', '\rx']) expect(csvField(risky).replace(/^"/, '').startsWith("'")).toBe(true);
    expect(csvField('=1,2')).toBe(`"'=1,2"`);
    // a user's profile name is the user's to choose
    const row = cdrCsvRows([record({ userName: '=cmd|" /C calc"!A0' })]);
    expect(row).toContain(`"'=cmd|"" /C calc""!A0"`);
  });

  it('hands out a cursor it takes back, and refuses one it did not make', () => {
    const cursor = { endedAt: T, callId: 'call_01M8GVB3GTGVMVVW2Z8Y52NN4D' };
    expect(decodeCdrCursor(encodeCdrCursor(cursor))).toEqual(cursor);
    for (const bad of ['', 'abc', '123', ':call_1', '12:call 1', `${'9'.repeat(17)}:call_1`, '1:call_1;DROP']) expect(decodeCdrCursor(bad)).toHaveProperty('error');
  });

  it('reads since/until as epoch ms, an ISO date-time with its zone, or a date; refuses the rest with why', () => {
    expect(parseCdrTime('since', String(T))).toBe(T);
    expect(parseCdrTime('since', '2026-11-28T10:00:00Z')).toBe(T);
    expect(parseCdrTime('since', '2026-11-28T11:00:00+01:00')).toBe(T);
    expect(parseCdrTime('since', '2026-11-28T10:00Z')).toBe(T);
    expect(parseCdrTime('since', '2026-11-28')).toBe(Date.parse('2026-11-28T00:00:00Z'));
    for (const bad of ['yesterday', '2026-11-28T10:00:00', '2026-02-30', '2026-13-01', '2026-11-28T25:00Z', '-5', '1e12', ''])
      expect(parseCdrTime('until', bad)).toEqual({ error: expect.stringContaining('until must be epoch milliseconds or an ISO 8601 date-time') });
  });
});
