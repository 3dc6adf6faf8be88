import { DailyCallCapError, GRAPH_ERROR_TABLE, GraphApiError, GraphOutcomeUnknownError, GraphUnreachableError, NoCallPermissionError } from '../whatsapp.errors';
import { WhatsAppGraphClient } from './graph-api.client';
import { FakeFetch, type FakeReply, RecordingLogger, networkError } from './graph-fetch.fake';

const TOKEN = 'EAAG-secret-token-value';
const SDP = 'v=0\r\ns=-\r\nt=0 0\r\n';
const OK = { status: 200, body: { success: true } };
const CONNECTED = { status: 200, body: { calls: [{ id: 'wacid.NEW' }] } };
const unavailable = (headers?: Record<string, string>): FakeReply => ({ status: 503, body: { error: { message: 'Service temporarily unavailable', code: 2 } }, headers });
const graphError = (status: number, code: number, extra: Record<string, unknown> = {}): FakeReply => ({
  status,
  body: { error: { message: `(#${code})`, type: 'OAuthException', code, fbtrace_id: 'T', ...extra } },
});

function client(replies: FakeReply[], over: { maxRetries?: number; requestTimeoutMs?: number; now?: () => number } = {}) {
  const fake = new FakeFetch(replies);
  const logger = new RecordingLogger();
  const delays: number[] = [];
  const graph = new WhatsAppGraphClient({
    baseUrl: 'https://graph.example.test',
    apiVersion: 'v23.0',
    accessToken: TOKEN,
    phoneNumberId: '106540352242922',
    requestTimeoutMs: over.requestTimeoutMs ?? 1000,
    maxRetries: over.maxRetries ?? 3,
    retryBaseDelayMs: 100,
    logger,
    fetch: fake.fetch,
    sleep: async (ms) => {
      delays.push(ms);
    },
    random: () => 0.5,
    ...(over.now ? { now: over.now } : {}),
  });
  return { graph, fake, logger, delays };
}

describe('retries of idempotent requests', () => {
  it('terminate succeeds on the 3rd attempt after two 503s, backing off exponentially with jitter', async () => {
    const { graph, fake, delays } = client([unavailable(), unavailable(), OK]);
    await expect(graph.terminate('wacid.A')).resolves.toBeUndefined();
    expect(fake.requests).toHaveLength(3);
    expect(fake.requests.map((r) => r.rawBody)).toEqual(Array(3).fill(fake.requests[0]!.rawBody));
    expect(delays).toEqual([75, 150]);
  });

  it('terminate gives up after maxRetries with the mapped 503 error', async () => {
    const { graph, fake } = client([unavailable(), unavailable(), unavailable()], { maxRetries: 2 });
    const err = await graph.terminate('wacid.A').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GraphApiError);
    expect(err).toMatchObject({ httpStatus: 503, kind: 'api_service_unavailable', metaCode: 2 });
    expect(fake.requests).toHaveLength(3);
  });

  it('retries pre_accept, accept, reject and GETs on a 502 without a Graph body', async () => {
    const html = { status: 502, rawBody: '<html>bad gateway</html>' };
    const { graph, fake } = client([html, OK, html, OK, html, OK, html, { status: 200, body: { permission: { status: 'no_permission' } } }]);
    await graph.preAccept('wacid.A', SDP);
    await graph.accept('wacid.A', SDP);
    await graph.reject('wacid.B');
    await graph.getCallPermissions({ userWaId: '1' });
    expect(fake.requests).toHaveLength(8);
  });

  it('retries terminate on network errors and timeouts, then reports GraphUnreachableError', async () => {
    const { graph, fake } = client([{ error: networkError('ECONNRESET') }, { hang: true }, { error: networkError('ECONNREFUSED') }], { maxRetries: 2, requestTimeoutMs: 20 });
    const err = await graph.terminate('wacid.A').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GraphUnreachableError);
    expect((err as GraphUnreachableError).reason).toContain('ECONNREFUSED');
    expect(fake.requests).toHaveLength(3);
  });

  it('does not retry a 5xx that carries a documented Meta code: it is a definite answer', async () => {
    const { graph, fake } = client([graphError(500, 138004)]);
    await expect(graph.terminate('wacid.A')).rejects.toMatchObject({ kind: 'connection_error', httpStatus: 500 });
    expect(fake.requests).toHaveLength(1);
  });

  it('does not retry a 4xx', async () => {
    const { graph, fake } = client([graphError(400, 100, { error_data: { details: 'Invalid SDP' } })]);
    await expect(graph.accept('wacid.A', SDP)).rejects.toMatchObject({ kind: 'invalid_parameter', reason: expect.stringContaining('Invalid SDP') });
    expect(fake.requests).toHaveLength(1);
  });
});

describe('non-idempotent requests (connect, message sends)', () => {
  it('connect on 503 throws GraphOutcomeUnknownError after exactly one request', async () => {
    const { graph, fake } = client([unavailable(), CONNECTED]);
    const err = await graph.connect({ to: '1', sdp: SDP }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GraphOutcomeUnknownError);
    expect(err).toMatchObject({ operation: 'calls.connect', reason: 'HTTP 503 code 2' });
    expect((err as GraphOutcomeUnknownError).cause).toBeInstanceOf(GraphApiError);
    expect(fake.requests).toHaveLength(1);
  });

  it('connect that times out is not repeated', async () => {
    const { graph, fake } = client([{ hang: true }, CONNECTED], { requestTimeoutMs: 20 });
    await expect(graph.connect({ to: '1', sdp: SDP })).rejects.toMatchObject({ code: 'WA_GRAPH_OUTCOME_UNKNOWN', reason: 'request timed out' });
    expect(fake.requests).toHaveLength(1);
  });

  it('a permission request whose connection reset is not repeated', async () => {
    const { graph, fake } = client([{ error: networkError('ECONNRESET') }]);
    await expect(graph.sendPermissionRequest({ to: '1' })).rejects.toThrow(GraphOutcomeUnknownError);
    expect(fake.requests).toHaveLength(1);
  });

  it('connect is retried when the connection was refused before anything was sent', async () => {
    const { graph, fake } = client([{ error: networkError('ECONNREFUSED') }, CONNECTED]);
    await expect(graph.connect({ to: '1', sdp: SDP })).resolves.toEqual({ waCallId: 'wacid.NEW' });
    expect(fake.requests).toHaveLength(2);
  });

  it('connect refused on every attempt ends in GraphUnreachableError (nothing was placed)', async () => {
    const { graph, fake } = client([{ error: networkError('ENOTFOUND') }, { error: networkError('ENOTFOUND') }], { maxRetries: 1 });
    await expect(graph.connect({ to: '1', sdp: SDP })).rejects.toThrow(GraphUnreachableError);
    expect(fake.requests).toHaveLength(2);
  });

  it('connect answered 429 is retried after the Retry-After delay', async () => {
    const { graph, fake, delays } = client([{ ...graphError(429, 138005), headers: { 'retry-after': '2' } }, CONNECTED]);
    await expect(graph.connect({ to: '1', sdp: SDP })).resolves.toEqual({ waCallId: 'wacid.NEW' });
    expect(delays).toEqual([2000]);
    expect(fake.requests).toHaveLength(2);
  });

  it('maps definite connect refusals to their typed errors without retrying', async () => {
    const { graph, fake } = client([graphError(401, 138006), graphError(400, 138012, { error_data: { next_allowed_call_time: 1767200000 } })]);
    await expect(graph.connect({ to: '1', sdp: SDP })).rejects.toThrow(NoCallPermissionError);
    const cap = await graph.connect({ to: '1', sdp: SDP }).catch((e: unknown) => e);
    expect(cap).toBeInstanceOf(DailyCallCapError);
    expect((cap as DailyCallCapError).nextAllowedAt).toBe(1767200000);
    expect(fake.requests).toHaveLength(2);
  });
});

describe('429 and Retry-After', () => {
  it('honours an HTTP-date Retry-After on a GET', async () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    const { graph, delays } = client(
      [{ ...graphError(429, 613), headers: { 'retry-after': 'Thu, 01 Jan 2026 00:00:03 GMT' } }, { status: 200, body: { permission: { status: 'permanent' } } }],
      { now: () => now },
    );
    await expect(graph.getCallPermissions({ userWaId: '1' })).resolves.toMatchObject({ status: 'permanent' });
    expect(delays).toEqual([3000]);
  });

  it('uses backoff when a 429 has no Retry-After', async () => {
    const { graph, delays } = client([graphError(429, 613), graphError(429, 613), { status: 200, body: { permission: { status: 'permanent' } } }]);
    await graph.getCallPermissions({ userWaId: '1' });
    expect(delays).toEqual([75, 150]);
  });

  it('does not wait for a Retry-After longer than the retry cap: the rate-limit error is thrown', async () => {
    const { graph, fake, delays } = client([{ ...graphError(429, 613), headers: { 'retry-after': '3600' } }]);
    await expect(graph.getCallPermissions({ userWaId: '1' })).rejects.toMatchObject({ kind: 'api_rate_limited', httpStatus: 429 });
    expect(delays).toEqual([]);
    expect(fake.requests).toHaveLength(1);
  });
});

describe('error mapping through the client', () => {
  it.each(Object.entries(GRAPH_ERROR_TABLE).map(([code, e]) => [Number(code), e.kind] as const))('a Graph error with code %i surfaces as kind %s', async (code, kind) => {
    const { graph } = client([graphError(400, code)], { maxRetries: 0 });
    const err = await graph.terminate('wacid.A').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GraphApiError);
    expect(err).toMatchObject({ kind, metaCode: code, httpStatus: 400, fbtraceId: 'T' });
  });
});

describe('logging', () => {
  it('logs each attempt at debug with operation, status and attempt, and never the token', async () => {
    const { graph, logger } = client([unavailable(), OK, graphError(400, 100)]);
    await graph.terminate('wacid.A');
    await graph.accept('wacid.A', SDP).catch(() => undefined);
    const requests = logger.entries.filter((e) => e.msg === 'graph request');
    expect(requests.map((e) => [e.level, e.obj['operation'], e.obj['status'], e.obj['attempt']])).toEqual([
      ['debug', 'calls.terminate', 503, 1],
      ['debug', 'calls.terminate', 200, 2],
      ['debug', 'calls.accept', 400, 1],
    ]);
    expect(JSON.stringify(logger.entries)).not.toContain(TOKEN);
  });
});

describe('retries that Meta answers "already done"', () => {
  it('a terminate whose first attempt took effect (5xx answer) and whose retry gets 100 resolves as done', async () => {
    const { graph, fake } = client([unavailable(), graphError(400, 100)]);
    await expect(graph.terminate('wacid.A')).resolves.toBeUndefined();
    expect(fake.requests).toHaveLength(2);
  });

  it('the same 100 on the FIRST attempt is an error (the call id is wrong or ended before we asked)', async () => {
    const { graph, fake } = client([graphError(400, 100)]);
    await expect(graph.terminate('wacid.B')).rejects.toMatchObject({ kind: 'invalid_parameter' });
    expect(fake.requests).toHaveLength(1);
  });

  it('rate-limit codes are retried even for a message send (Meta refused before doing anything)', async () => {
    const { graph, fake } = client([graphError(400, 80007), { status: 200, body: { messaging_product: 'whatsapp', contacts: [{ input: '1', wa_id: '1' }], messages: [{ id: 'wamid.X' }] } }]);
    await expect(graph.sendPermissionRequest({ to: '1' })).resolves.toEqual({ messageId: 'wamid.X' });
    expect(fake.requests).toHaveLength(2);
  });
});
