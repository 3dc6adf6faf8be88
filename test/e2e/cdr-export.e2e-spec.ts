import type { CallRecord } from '@wagw/call-state';
import { CDR_COLUMNS } from '../../apps/signalling/src/calls/cdr-export';
import { eventually, startStack, type Stack } from '../support/stack';
import { expectNoLeaks } from '../support/leaks';

/**
 * CDR export (GET /v1/cdrs) on a running gateway: three real calls (a WhatsApp user calls, the gateway answers
 * with its tone, the user hangs up), then their CDRs paged by the cursor, as CSV, and bad queries refused with
 * a reason.
 */
describe('CDR export: GET /v1/cdrs', () => {
  const user = '15552229999';
  let stack: Stack;
  let base: string;
  let token: string;
  const callIds: string[] = [];

  async function get(path: string, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}`, ...headers } });
  }

  beforeAll(async () => {
    stack = await startStack({ name: 'cdr-export', env: { SIGNALLING_CDR_RETENTION_HOURS: '2' } });
    base = `http://127.0.0.1:${stack.config.signalling.httpPort}`;
    token = stack.config.signalling.apiToken;
    await stack.emu('POST', '/emulator/users', { waId: user, name: '=Ana, "the tester"' });
    for (let i = 0; i < 3; i++) {
      const { waCallId } = await stack.emu<{ waCallId: string }>('POST', `/emulator/users/${user}/call`, {});
      const active = await eventually(`call ${waCallId} active`, async () => {
        const rec = (await stack.api('GET', `/v1/calls/${waCallId}`)).body as CallRecord;
        return rec.state === 'active' ? rec : undefined;
      });
      await stack.emu('POST', `/emulator/users/${user}/hangup`);
      await eventually(`call ${waCallId} ended`, async () => ((await stack.api('GET', `/v1/calls/${waCallId}`)).body as CallRecord).state === 'ended');
      callIds.push(active.callId);
    }
  });

  afterAll(async () => {
    await expectNoLeaks(stack);
    await stack?.close();
  });

  it('pages through the CDRs oldest first with the next cursor (JSON), the working fields left out', async () => {
    const first = await get('/v1/cdrs?limit=2');
    expect(first.status).toBe(200);
    const p1 = (await first.json()) as { cdrs: Record<string, unknown>[]; next: string | null };
    expect(p1.cdrs.map((c) => c['callId'])).toEqual(callIds.slice(0, 2));
    expect(p1.next).toMatch(/^\d+:call_/);
    expect(first.headers.get('x-next-cursor')).toBe(p1.next);
    expect(first.headers.get('link')).toBe(`</v1/cdrs?limit=2&after=${encodeURIComponent(p1.next ?? '')}>; rel="next"`);
    expect(p1.cdrs[0]).toMatchObject({ direction: 'inbound', userWaId: user, endedBy: 'wa' });
    expect(p1.cdrs[0]).not.toHaveProperty('waSdp');

    const second = await get(`/v1/cdrs?limit=2&after=${encodeURIComponent(p1.next ?? '')}`);
    const p2 = (await second.json()) as { cdrs: Record<string, unknown>[]; next: string | null };
    expect(p2.cdrs.map((c) => c['callId'])).toEqual(callIds.slice(2));
    expect(p2.next).toBeNull();
    expect(second.headers.get('x-next-cursor')).toBeNull();
    const endedAts = [...p1.cdrs, ...p2.cdrs].map((c) => c['endedAt'] as number);
    expect([...endedAts].sort((a, b) => a - b)).toEqual(endedAts);

    // a window by end time: since the second call ended (inclusive), until the third ended (exclusive)
    const [, b, c] = endedAts as [number, number, number];
    const windowed = (await (await get(`/v1/cdrs?since=${b}&until=${new Date(c).toISOString()}`)).json()) as { cdrs: { callId: string }[] };
    expect(windowed.cdrs.map((x) => x.callId)).toEqual(b < c ? [callIds[1]] : []);
    const future = (await (await get(`/v1/cdrs?since=${new Date(Date.now() + 3_600_000).toISOString()}`)).json()) as { cdrs: unknown[]; next: unknown };
    expect(future).toEqual({ cdrs: [], next: null });
  });

  it('keeps a CDR signalling.cdrRetentionHours (2 h here, 7 days by default)', async () => {
    const ttl = await stack.redis.pttl(`${stack.config.redis.keyPrefix}:call:${callIds[0]}`);
    expect(ttl).toBeGreaterThan(2 * 3_600_000 - 120_000);
    expect(ttl).toBeLessThanOrEqual(2 * 3_600_000);
  });

  it('gives CSV with format=csv or Accept: text/csv: one header, a row per CDR, the user-chosen name defused', async () => {
    for (const res of [await get('/v1/cdrs?format=csv'), await get('/v1/cdrs', { accept: 'text/csv' })]) {
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/csv; charset=utf-8/);
      const lines = (await res.text()).split('\r\n');
      expect(lines[0]).toBe(CDR_COLUMNS.join(','));
      expect(lines.slice(1, -1)).toHaveLength(3);
      expect(lines.at(-1)).toBe('');
      for (const [i, callId] of callIds.entries()) expect(lines[i + 1]?.startsWith(`${callId},inbound,`)).toBe(true);
      expect(lines[1]).toContain(`,"'=Ana, ""the tester""",`);
    }
  });

  it('refuses a bad query with why, and a request without the token', async () => {
    const cases: [string, RegExp][] = [
      ['/v1/cdrs?limit=0', /limit must be an integer from 1 to 1000/],
      ['/v1/cdrs?limit=5000', /limit must be an integer from 1 to 1000/],
      ['/v1/cdrs?since=yesterday', /since must be epoch milliseconds or an ISO 8601 date-time/],
      ['/v1/cdrs?until=2026-02-30', /until must be epoch milliseconds/],
      ['/v1/cdrs?since=2000&until=1000', /until must be after since/],
      ['/v1/cdrs?after=garbage', /after must be the "next" of an earlier page/],
      ['/v1/cdrs?format=xml', /format must be json or csv/],
      ['/v1/cdrs?since=1&since=2', /since must be given once/],
      ['/v1/cdrs?from=1', /unknown query parameter\(s\) from/],
    ];
    for (const [path, why] of cases) {
      const res = await get(path);
      expect({ path, status: res.status }).toEqual({ path, status: 400 });
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(why);
    }
    expect((await fetch(`${base}/v1/cdrs`)).status).toBe(401);
  });
});
