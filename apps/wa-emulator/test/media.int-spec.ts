import { createHash } from 'node:crypto';
import { type IncomingHttpHeaders, request } from 'node:http';
import { analyseTone, decodeOggOpus, readOggOpus, toneAsOggOpus } from '@wagw/media-bridge';
import { type EmulatorHarness, startEmulatorHarness } from './emulator-harness';
import { type MultipartRequest, multipartBody, uploadFields } from './media-upload';
import { type HttpResult, httpJson } from './webhook-receiver';

const WA_ID = '15552225555';

/** A GET whose answer is kept as bytes (no keep-alive: no socket outlives a test). */
function httpBytes(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: IncomingHttpHeaders; bytes: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', agent: false, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, bytes: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A POST of a hand-built multipart/form-data body (no keep-alive), the answer parsed as JSON. */
function httpPostForm(url: string, form: MultipartRequest, headers: Record<string, string> = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent: false, headers: { ...headers, 'content-type': form.contentType, 'content-length': String(form.body.length) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
    });
    req.on('error', reject);
    req.end(form.body);
  });
}

describe('wa-emulator over HTTP: media', () => {
  let h: EmulatorHarness;
  let auth: Record<string, string>;

  beforeEach(async () => {
    h = await startEmulatorHarness();
    auth = { authorization: `Bearer ${h.config.whatsapp.accessToken}` };
  });

  afterEach(async () => {
    await h.close();
  });

  describe('the voicemail recording through GET /<MEDIA_ID> and its download URL', () => {

  const mediaUrl = (id: string, query = ''): string => `${h.emulator.baseUrl}/${h.config.whatsapp.graphApiVersion}/${id}${query}`;

  /** The user calls, the business rejects, the user leaves a 1 s voicemail of a 1 kHz tone. */
  const leaveVoicemail = async (): Promise<{ mediaId: string; sha256: string; fileSize: number }> => {
    await h.control('POST', 'users', { waId: WA_ID });
    expect((await h.graph('POST', 'settings', { calling: { voicemail: { status: 'ENABLED', triggers: ['REJECT'] } } })).status).toBe(200);
    const waCallId = (await h.control('POST', `users/${WA_ID}/call`, {})).body.waCallId as string;
    expect((await h.graph('POST', 'calls', { messaging_product: 'whatsapp', call_id: waCallId, action: 'reject' })).status).toBe(200);
    const left = await h.control('POST', `users/${WA_ID}/voicemail`, { durationS: 1, toneHz: 1000 });
    expect(left.status).toBe(200);
    return left.body;
  };

  it('GET /<MEDIA_ID> gives the metadata and a URL on this server; that URL with the token gives exactly the recording', async () => {
    const left = await leaveVoicemail();

    const info = await httpJson('GET', mediaUrl(left.mediaId, `?phone_number_id=${h.config.whatsapp.phoneNumberId}`), undefined, auth);
    expect(info).toEqual({
      status: 200,
      body: {
        messaging_product: 'whatsapp',
        url: expect.stringMatching(new RegExp(`^${h.emulator.baseUrl}/whatsapp_business/attachments/\\?mid=${left.mediaId}&ext=\\d+&hash=`)),
        mime_type: 'audio/ogg; codecs=opus',
        sha256: left.sha256,
        file_size: left.fileSize,
        id: left.mediaId,
      },
    });

    const got = await httpBytes(info.body.url, auth);
    expect(got.status).toBe(200);
    expect(got.headers['content-type']).toBe('audio/ogg; codecs=opus');
    expect(got.headers['content-length']).toBe(String(left.fileSize));
    expect(createHash('sha256').update(got.bytes).digest('hex')).toBe(left.sha256);
    const tone = analyseTone(decodeOggOpus(readOggOpus(got.bytes)), 1000, 48_000);
    expect(tone.framesWithTone).toBeGreaterThan(tone.frames * 0.9);
    expect((await h.control('GET', `graph-requests?mediaId=${left.mediaId}`)).body.map((r: { action: string; httpStatus: number }) => [r.action, r.httpStatus])).toEqual([
      ['media', 200],
      ['media_download', 200],
    ]);
  });

  it('refusals: unknown id 400/100/33, another phone_number_id 400/100, no token 401/190, a forged hash 404', async () => {
    const left = await leaveVoicemail();

    const unknown = await httpJson('GET', mediaUrl('1234567890123456'), undefined, auth);
    expect(unknown).toEqual({
      status: 400,
      body: {
        error: {
          message: "Unsupported get request. Object with ID '1234567890123456' does not exist, cannot be loaded due to missing permissions, or does not support this operation.",
          type: 'GraphMethodException',
          code: 100,
          error_subcode: 33,
          fbtrace_id: expect.any(String),
        },
      },
    });
    expect(await httpJson('GET', mediaUrl(left.mediaId, '?phone_number_id=1'), undefined, auth)).toMatchObject({ status: 400, body: { error: { code: 100 } } });
    expect(await httpJson('GET', mediaUrl(left.mediaId))).toMatchObject({ status: 401, body: { error: { code: 190 } } });

    const url = (await httpJson('GET', mediaUrl(left.mediaId), undefined, auth)).body.url as string;
    expect(await httpJson('GET', url)).toMatchObject({ status: 401, body: { error: { code: 190 } } });
    const forged = new URL(url);
    forged.searchParams.set('hash', 'forged');
    expect(await httpJson('GET', forged.toString(), undefined, auth)).toEqual({ status: 404, body: { error: { message: 'URL signature mismatch' } } });
  });

  it('the two-segment media route does not shadow the control and phone routes', async () => {
    expect((await h.control('GET', 'users')).status).toBe(200);
    expect((await h.control('GET', 'clock')).status).toBe(200);
    expect((await httpJson('GET', `${h.emulator.baseUrl}/health`)).status).toBe(200);
    // a two-segment path that is no Graph request (no vNN.N first) stays an unknown path
    expect((await httpJson('GET', `${h.emulator.baseUrl}/nothing/here`)).status).toBe(404);
  });
});

  describe('POST /<PHONE_NUMBER_ID>/media, the Cloud API media upload', () => {

  const uploadUrl = (): string => `${h.emulator.baseUrl}/${h.config.whatsapp.graphApiVersion}/${h.config.whatsapp.phoneNumberId}/media`;
  const mediaUrl = (id: string): string => `${h.emulator.baseUrl}/${h.config.whatsapp.graphApiVersion}/${id}`;
  const announcementSettings = (id: string) => ({ calling: { voicemail: { status: 'ENABLED', triggers: ['REJECT'], audio: { default: { announcement_media_id: id } } } } });

  it('a multipart upload answers { id }; GET /<MEDIA_ID> and its download URL give exactly the uploaded bytes; settings take it as the announcement', async () => {
    const ogg = toneAsOggOpus({ frequencyHz: 1000, durationS: 2 });
    const form = multipartBody(uploadFields(ogg, { type: 'audio/ogg; codecs=opus', useCase: 'call_voicemail_announcement' }));

    const uploaded = await httpPostForm(uploadUrl(), form, auth);
    expect(uploaded).toEqual({ status: 200, body: { id: expect.stringMatching(/^[1-9]\d{15}$/) } });
    const id = uploaded.body.id as string;

    const info = await httpJson('GET', mediaUrl(id), undefined, auth);
    expect(info).toEqual({
      status: 200,
      body: {
        messaging_product: 'whatsapp',
        url: expect.stringMatching(new RegExp(`^${h.emulator.baseUrl}/whatsapp_business/attachments/\\?mid=${id}&ext=\\d+&hash=`)),
        mime_type: 'audio/ogg; codecs=opus',
        sha256: createHash('sha256').update(ogg).digest('hex'),
        file_size: ogg.length,
        id,
      },
    });
    const got = await httpBytes(info.body.url, auth);
    expect(got.status).toBe(200);
    expect(got.headers['content-type']).toBe('audio/ogg; codecs=opus');
    expect(got.bytes.equals(ogg)).toBe(true);
    expect((await h.control('GET', `graph-requests?mediaId=${id}`)).body.map((r: { action: string; method: string; httpStatus: number }) => [r.method, r.action, r.httpStatus])).toEqual([
      ['POST', 'media_upload', 200],
      ['GET', 'media', 200],
      ['GET', 'media_download', 200],
    ]);
    expect(await h.graph('POST', 'settings', announcementSettings(id))).toEqual({ status: 200, body: { success: true } });
  });

  it("refusals in Meta's shape: no token 401/190, a JSON body, a 61 s announcement and a bad multipart body 400/100 with the reason; settings refuse another id", async () => {
    const form = multipartBody(uploadFields(toneAsOggOpus({ frequencyHz: 440, durationS: 61 }), { useCase: 'call_voicemail_announcement' }));
    const refused = (details: string) => ({
      status: 400,
      body: { error: { message: '(#100) Invalid parameter', type: 'OAuthException', code: 100, error_data: { details }, fbtrace_id: expect.any(String) } },
    });

    expect(await httpPostForm(uploadUrl(), form)).toMatchObject({ status: 401, body: { error: { code: 190 } } });
    expect(await httpPostForm(uploadUrl(), form, auth)).toEqual(refused('use_case=call_voicemail_announcement: the announcement is 61.00 s long; it must be under 60 s'));
    expect(await h.graph('POST', 'media', { messaging_product: 'whatsapp', type: 'audio/ogg' })).toEqual(refused('the body must be multipart/form-data with messaging_product, type and file'));
    const cut = { contentType: form.contentType, body: form.body.subarray(0, form.body.length - 10) };
    expect(await httpPostForm(uploadUrl(), cut, auth)).toEqual(refused(expect.stringMatching(/^multipart\/form-data body: the body ends in part 4 without the closing delimiter/)));
    expect(await h.graph('POST', 'settings', announcementSettings('1234567890123456'))).toEqual(
      refused(
        'calling.voicemail.audio.default.announcement_media_id: media 1234567890123456 was not uploaded (POST /<PHONE_NUMBER_ID>/media with use_case=call_voicemail_announcement) or has expired',
      ),
    );
    expect((await h.control('GET', 'graph-requests?action=media_upload')).body.map((r: { httpStatus: number; code?: number }) => [r.httpStatus, r.code])).toEqual([
      [400, 100],
      [400, 100],
      [400, 100],
    ]);
  });

  it('a body over 20 MB is answered 413 / 100 by the body reader; the request never reaches the core', async () => {
    const form = multipartBody(uploadFields(Buffer.alloc(20 * 1024 * 1024, 1), { type: 'audio/mpeg' }));

    expect(await httpPostForm(uploadUrl(), form, auth)).toEqual({
      status: 413,
      body: { error: { message: '(#100) Invalid request body: request entity too large', type: 'OAuthException', code: 100, fbtrace_id: expect.any(String) } },
    });
    expect((await h.control('GET', 'graph-requests?action=media_upload')).body).toEqual([]);
  });
});
});
