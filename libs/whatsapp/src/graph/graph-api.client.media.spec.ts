import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GraphApiError, GraphResponseError } from '../whatsapp.errors';
import { WhatsAppGraphClient } from './graph-api.client';
import { FakeFetch, type FakeReply, RecordingLogger } from './graph-fetch.fake';
import { createNodeHttpFetch } from './node-http-fetch';

const TOKEN = 'EAAG-secret-token-value';
const PNID = '106540352242922';
const AUDIO = Buffer.from('OggS\0\x02 pretend voicemail bytes \xff\x00\x01', 'latin1');
const SHA = createHash('sha256').update(AUDIO).digest('hex');
const LINK = 'https://lookaside.example.test/whatsapp_business/attachments/?mid=1234567890&ext=1764300000&hash=ATu';
const INFO = { messaging_product: 'whatsapp', url: LINK, mime_type: 'audio/ogg; codecs=opus', sha256: SHA, file_size: AUDIO.length, id: '1234567890' };

function client(replies: FakeReply[], baseUrl = 'https://graph.example.test/') {
  const fake = new FakeFetch(replies);
  const graph = new WhatsAppGraphClient({
    baseUrl,
    apiVersion: 'v23.0',
    accessToken: TOKEN,
    phoneNumberId: PNID,
    requestTimeoutMs: 1000,
    maxRetries: 2,
    retryBaseDelayMs: 100,
    logger: new RecordingLogger(),
    fetch: fake.fetch,
    sleep: async () => undefined,
  });
  return { graph, fake };
}

describe('WhatsAppGraphClient media (Meta "Media": retrieve a media URL, download it)', () => {
  it('asks GET /<MEDIA_ID> naming our number and reads the link, type, hash and size', async () => {
    const { graph, fake } = client([{ status: 200, body: INFO }]);
    await expect(graph.getMedia('1234567890')).resolves.toEqual({ mediaId: '1234567890', url: LINK, mimeType: 'audio/ogg; codecs=opus', sha256: SHA, fileSize: AUDIO.length });
    expect(fake.requests[0]).toMatchObject({ url: `https://graph.example.test/v23.0/1234567890?phone_number_id=${PNID}`, method: 'GET' });
    expect(fake.requests[0]!.headers['authorization']).toBe(`Bearer ${TOKEN}`);
  });

  it('takes a file size sent as digits and a hash in upper case', async () => {
    const { graph } = client([{ status: 200, body: { ...INFO, file_size: '42', sha256: SHA.toUpperCase() } }]);
    await expect(graph.getMedia('1234567890')).resolves.toMatchObject({ fileSize: 42, sha256: SHA });
  });

  it('refuses an id that could shape the path, and an answer without a usable link', async () => {
    const { graph, fake } = client([{ status: 200, body: { ...INFO, url: 'not a link' } }, { status: 200, body: { ...INFO, url: 'http://lookaside.example.test/x' } }]);
    for (const bad of ['', '..', '../settings', '12/calls', 'a?b', 'x'.repeat(65)]) await expect(graph.getMedia(bad)).rejects.toThrow(TypeError);
    expect(fake.requests).toHaveLength(0);
    await expect(graph.getMedia('1')).rejects.toThrow(/url must be an http\(s\) URL/);
    await expect(graph.getMedia('1')).rejects.toThrow(/url is not https/);
  });

  it("passes on Meta's refusal of an unknown or expired media id", async () => {
    const refusal = { status: 400, body: { error: { message: "Unsupported get request. Object with ID '99' does not exist", type: 'GraphMethodException', code: 100, error_subcode: 33, fbtrace_id: 'Ab' } } };
    const { graph } = client([refusal]);
    const err = await graph.getMedia('99').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GraphApiError);
    expect(err).toMatchObject({ metaCode: 100, metaSubcode: 33, httpStatus: 400 });
  });

  it('downloads the bytes from the link with the token and checks them against the hash', async () => {
    const { graph, fake } = client([{ status: 200, bytes: AUDIO, headers: { 'content-type': 'audio/ogg' } }]);
    const got = await graph.downloadMedia({ mediaId: '1234567890', url: LINK, mimeType: 'audio/ogg; codecs=opus', sha256: SHA });
    expect(got.bytes.equals(AUDIO)).toBe(true);
    expect(got.mimeType).toBe('audio/ogg');
    expect(fake.requests[0]).toMatchObject({ url: LINK, method: 'GET' });
    expect(fake.requests[0]!.headers['authorization']).toBe(`Bearer ${TOKEN}`);
  });

  it('refuses bytes that do not match the announced hash, and a body over the limit, without retrying', async () => {
    const { graph, fake } = client([
      { status: 200, bytes: Buffer.concat([AUDIO, Buffer.from('x')]) },
      { status: 200, bytes: AUDIO },
      { status: 200, bytes: AUDIO, headers: { 'content-length': String(AUDIO.length) } },
    ]);
    const media = { mediaId: '1', url: LINK, mimeType: 'audio/ogg', sha256: SHA };
    await expect(graph.downloadMedia(media)).rejects.toThrow(GraphResponseError);
    await expect(graph.downloadMedia(media, 10)).rejects.toThrow(/over the 10-byte limit/);
    await expect(graph.downloadMedia(media, 10)).rejects.toThrow(/over the 10-byte limit/);
    expect(fake.requests).toHaveLength(3);
  });

  it('retries a download that met a 5xx (a GET is safe to repeat) and maps a 404 to a Graph error', async () => {
    const { graph, fake } = client([{ status: 503, rawBody: 'busy' }, { status: 200, bytes: AUDIO }, { status: 404, rawBody: '<html>gone</html>' }]);
    const media = { mediaId: '1', url: LINK, mimeType: 'audio/ogg; codecs=opus' };
    await expect(graph.downloadMedia(media)).resolves.toMatchObject({ mimeType: 'audio/ogg; codecs=opus' });
    expect(fake.requests).toHaveLength(2);
    await expect(graph.downloadMedia(media)).rejects.toMatchObject({ httpStatus: 404 });
  });
});

describe('WhatsAppGraphClient media upload (Meta "Media": upload)', () => {
  it('posts multipart/form-data with messaging_product, type, use_case and the file, and reads the id', async () => {
    const { graph, fake } = client([{ status: 200, body: { id: '4490709327384033' } }]);
    await expect(graph.uploadMedia({ bytes: AUDIO, mimeType: 'audio/ogg', fileName: 'greeting "1".ogg', useCase: 'call_voicemail_announcement' })).resolves.toEqual({ mediaId: '4490709327384033' });
    const req = fake.requests[0]!;
    expect(req).toMatchObject({ url: `https://graph.example.test/v23.0/${PNID}/media`, method: 'POST' });
    const boundary = /^multipart\/form-data; boundary=(----wagw[0-9a-f]{24})$/.exec(req.headers['content-type'] ?? '')?.[1];
    expect(boundary).toBeDefined();
    const expected = Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="messaging_product"\r\n\r\nwhatsapp\r\n` +
          `--${boundary}\r\nContent-Disposition: form-data; name="type"\r\n\r\naudio/ogg\r\n` +
          `--${boundary}\r\nContent-Disposition: form-data; name="use_case"\r\n\r\ncall_voicemail_announcement\r\n` +
          `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="greeting__1_.ogg"\r\nContent-Type: audio/ogg\r\n\r\n`,
      ),
      AUDIO,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    expect(req.bodyBytes?.equals(expected)).toBe(true);
    expect(req.headers['authorization']).toBe(`Bearer ${TOKEN}`);
  });

  it('does not repeat an upload whose outcome is unknown, and refuses a type that could break the body', async () => {
    const { graph, fake } = client([{ status: 503, rawBody: 'busy' }]);
    await expect(graph.uploadMedia({ bytes: AUDIO, mimeType: 'audio/ogg', fileName: 'a.ogg' })).rejects.toMatchObject({ code: 'WA_GRAPH_OUTCOME_UNKNOWN' });
    expect(fake.requests).toHaveLength(1);
    await expect(graph.uploadMedia({ bytes: AUDIO, mimeType: 'audio/ogg\r\nX: y', fileName: 'a.ogg' })).rejects.toThrow(TypeError);
  });
});

describe('createNodeHttpFetch response limit', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      // a chunked answer without Content-Length, so only the received bytes can tell
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const n = req.url === '/big' ? 64 : 2;
      for (let i = 0; i < n; i++) res.write(Buffer.alloc(1024, i));
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('gives the bytes of an answer within the limit and drops one over it', async () => {
    const fetchFn = createNodeHttpFetch({ maxResponseBytes: 16 * 1024 });
    try {
      const small = await fetchFn(`${base}/small`, { method: 'GET', headers: {} });
      expect(Buffer.from(await small.arrayBuffer())).toHaveLength(2048);
      await expect(fetchFn(`${base}/big`, { method: 'GET', headers: {} })).rejects.toMatchObject({ code: 'ERR_GRAPH_RESPONSE_TOO_LARGE' });
    } finally {
      fetchFn.close();
    }
  });

  it('a client over that fetch refuses the download with the limit named', async () => {
    const fetchFn = createNodeHttpFetch({ maxResponseBytes: 16 * 1024 });
    const graph = new WhatsAppGraphClient({
      baseUrl: base,
      apiVersion: 'v23.0',
      accessToken: TOKEN,
      phoneNumberId: PNID,
      requestTimeoutMs: 2000,
      maxRetries: 2,
      retryBaseDelayMs: 10,
      logger: new RecordingLogger(),
      fetch: fetchFn,
    });
    try {
      await expect(graph.downloadMedia({ mediaId: '1', url: `${base}/big`, mimeType: 'audio/ogg' })).rejects.toThrow(/body over 16384 bytes/);
      await expect(graph.downloadMedia({ mediaId: '1', url: `${base}/small`, mimeType: 'audio/ogg' })).resolves.toMatchObject({ mimeType: 'application/octet-stream' });
    } finally {
      fetchFn.close();
    }
  });
});
