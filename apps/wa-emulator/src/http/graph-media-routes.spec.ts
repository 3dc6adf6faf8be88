import type { ArgumentsHost, ExecutionContext } from '@nestjs/common';
import { RequestMethod } from '@nestjs/common';
import { EXCEPTION_FILTERS_METADATA, GUARDS_METADATA, METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import type { Request, Response } from 'express';
import { silentLogger } from '@wagw/logging';
import { type TestCore, freshTestCore, thrown } from '../../test/core-harness';
import { multipartBody, uploadFields } from '../../test/media-upload';
import { EmulatorModule } from '../emulator.module';
import type { PhoneServices } from '../phone/phone.tokens';
import { BearerTokenGuard, GraphAuthGuard, GraphTokenGuard } from './graph-auth.guard';
import { GraphExceptionFilter } from './graph-exception.filter';
import { GraphMediaController, MediaDownloadController, requestOrigin } from './graph-media.controller';
import { GraphController } from './graph.controller';

const WA_ID = '15552229999';
const HOST = 'localhost:18090';

type Controller = new (...args: never[]) => unknown;

/** `METHOD /controller-path` of a controller's one handler with no sub-path. */
function route(controller: Controller, method: string): string {
  const handler = (controller.prototype as Record<string, unknown>)[method] as object;
  const verb = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod];
  return `${verb} /${Reflect.getMetadata(PATH_METADATA, controller) as string}${Reflect.getMetadata(PATH_METADATA, handler) as string}`;
}

function fakeRequest(init: { host?: string; authorization?: string; params?: Record<string, string> } = {}): Request {
  const headers: Record<string, string> = {};
  if (init.host !== undefined) headers['host'] = init.host;
  if (init.authorization !== undefined) headers['authorization'] = init.authorization;
  return {
    headers,
    params: init.params ?? {},
    protocol: 'http',
    socket: { localAddress: '::1', localPort: 18090 },
    get: (name: string) => headers[name.toLowerCase()],
  } as unknown as Request;
}

const contextOf = (req: Request): ExecutionContext => ({ switchToHttp: () => ({ getRequest: () => req }) }) as unknown as ExecutionContext;

/** What the raw response received: status, headers, and the body as bytes (or the JSON object written). */
interface Written {
  status: number;
  headers: Record<string, string>;
  bytes?: Buffer;
  json?: unknown;
}

function fakeResponse(): { res: Response; out: Written } {
  const out: Written = { status: 0, headers: {} };
  const res = {
    writeHead(status: number, headers: Record<string, string>) {
      out.status = status;
      Object.assign(out.headers, headers);
      return res;
    },
    end(body: Buffer) {
      out.bytes = body;
    },
    status(code: number) {
      out.status = code;
      return res;
    },
    setHeader(name: string, value: string) {
      out.headers[name] = value;
    },
    json(body: unknown) {
      out.json = body;
    },
  };
  return { res: res as unknown as Response, out };
}

/** What GraphExceptionFilter writes for an error thrown by a guard or handler. */
function httpAnswer(err: unknown): Written {
  const { res, out } = fakeResponse();
  const host = { switchToHttp: () => ({ getResponse: () => res }) } as unknown as ArgumentsHost;
  new GraphExceptionFilter(silentLogger()).catch(err, host);
  return out;
}


describe('Graph media routes: GET /:version/:mediaId and the download URL', () => {
  let h: TestCore;
  let bearer: string;

  freshTestCore((c) => {
    h = c;
    bearer = `Bearer ${h.config.whatsapp.accessToken}`;
  });

  const leaveVoicemail = async (): Promise<string> => {
    h.core.createUser(WA_ID);
    h.core.updateSettings({ calling: { voicemail: { status: 'ENABLED', triggers: ['REJECT'] } } });
    const { waCallId } = await h.core.userCall(WA_ID);
    await h.core.callsAction({ messaging_product: 'whatsapp', call_id: waCallId, action: 'reject' });
    return h.core.leaveVoicemail(WA_ID, { durationS: 1 }).mediaId;
  };
  const infoOver = (mediaId: string, query: Record<string, unknown> = {}): Record<string, unknown> =>
    new GraphMediaController(h.core).media(mediaId, query, fakeRequest({ host: HOST }));
  const downloadOver = (url: string): Written => {
    const { res, out } = fakeResponse();
    new MediaDownloadController(h.core).download(Object.fromEntries(new URL(url).searchParams), res);
    return out;
  };

  it('serve GET /:version/:mediaId and GET /whatsapp_business/attachments, with the token guards and the Graph error filter', () => {
    expect(route(GraphMediaController, 'media')).toBe('GET /:version/:mediaId/');
    expect(route(MediaDownloadController, 'download')).toBe('GET /whatsapp_business/attachments/');
    expect(Reflect.getMetadata(GUARDS_METADATA, GraphMediaController)).toEqual([GraphTokenGuard]);
    expect(Reflect.getMetadata(GUARDS_METADATA, MediaDownloadController)).toEqual([BearerTokenGuard]);
    expect(Reflect.getMetadata(GUARDS_METADATA, GraphController)).toEqual([GraphAuthGuard]);
    for (const c of [GraphMediaController, MediaDownloadController]) expect(Reflect.getMetadata(EXCEPTION_FILTERS_METADATA, c)).toEqual([GraphExceptionFilter]);
  });

  it('are registered last, the download before `:version/:mediaId`, which would match its path and every two-segment route', () => {
    const { controllers = [] } = EmulatorModule.forRoot(h.core, silentLogger(), {} as PhoneServices);
    expect(controllers.slice(-2)).toEqual([MediaDownloadController, GraphMediaController]);
  });

  it('GET /:version/:mediaId checks the version and the token but not a phone number, and answers 400/100/33 for an unknown id', () => {
    const guard = new GraphTokenGuard(h.core);
    const params = { version: 'v23.0', mediaId: '1234567890123456' };
    expect(guard.canActivate(contextOf(fakeRequest({ authorization: bearer, params })))).toBe(true);

    const noToken = httpAnswer(thrown(() => guard.canActivate(contextOf(fakeRequest({ params })))));
    expect(noToken).toEqual({
      status: 401,
      headers: {},
      json: { error: { message: 'Invalid OAuth access token - Cannot parse access token', type: 'OAuthException', code: 190, fbtrace_id: expect.any(String) } },
    });
    const badVersion = httpAnswer(thrown(() => guard.canActivate(contextOf(fakeRequest({ authorization: bearer, params: { ...params, version: 'emulator' } })))));
    // every two-segment path reaches this route: one that is no Graph request is an unknown path
    expect(badVersion).toMatchObject({ status: 404, json: { error: { code: 803 } } });

    expect(httpAnswer(thrown(() => infoOver('1234567890123456')))).toEqual({
      status: 400,
      headers: {},
      json: {
        error: {
          message: "Unsupported get request. Object with ID '1234567890123456' does not exist, cannot be loaded due to missing permissions, or does not support this operation.",
          type: 'GraphMethodException',
          code: 100,
          error_subcode: 33,
          fbtrace_id: expect.any(String),
        },
      },
    });
  });

  it('GET /:version/:mediaId answers the metadata with a download URL on the Host the request came to; another phone_number_id is 400/100', async () => {
    const mediaId = await leaveVoicemail();
    const stored = h.core.mediaStore.get(mediaId);

    expect(infoOver(mediaId)).toEqual({
      messaging_product: 'whatsapp',
      url: expect.stringMatching(new RegExp(`^http://${HOST}/whatsapp_business/attachments/\\?mid=${mediaId}&ext=\\d+&hash=`)),
      mime_type: 'audio/ogg; codecs=opus',
      sha256: stored?.sha256,
      file_size: stored?.fileSize,
      id: mediaId,
    });
    expect(httpAnswer(thrown(() => infoOver(mediaId, { phone_number_id: '111' })))).toMatchObject({ status: 400, json: { error: { code: 100, message: '(#100) Invalid parameter' } } });
  });

  it('the download answers 200 with exactly the stored bytes, their mime type and length', async () => {
    const mediaId = await leaveVoicemail();
    const stored = h.core.mediaStore.get(mediaId);

    const out = downloadOver(infoOver(mediaId)['url'] as string);

    expect(out.status).toBe(200);
    expect(out.headers).toEqual({ 'Content-Type': 'audio/ogg; codecs=opus', 'Content-Length': String(stored?.bytes.length) });
    expect(Buffer.isBuffer(out.bytes) && stored !== undefined && out.bytes.equals(stored.bytes)).toBe(true);
    expect(out.bytes?.subarray(0, 4).toString('ascii')).toBe('OggS');
  });

  it('the download needs the bearer token (401/190); a bad hash or an expired URL is 404 with the reason', async () => {
    const mediaId = await leaveVoicemail();
    const url = new URL(infoOver(mediaId)['url'] as string);
    const guard = new BearerTokenGuard(h.core);
    expect(guard.canActivate(contextOf(fakeRequest({ authorization: bearer })))).toBe(true);
    expect(httpAnswer(thrown(() => guard.canActivate(contextOf(fakeRequest({ authorization: 'Bearer wrong' })))))).toMatchObject({ status: 401, json: { error: { code: 190 } } });

    url.searchParams.set('hash', 'forged');
    expect(httpAnswer(thrown(() => downloadOver(url.toString())))).toEqual({ status: 404, headers: {}, json: { error: { message: 'URL signature mismatch' } } });
    const fresh = infoOver(mediaId)['url'] as string;
    h.core.advanceClock(5 * 60_000);
    expect(httpAnswer(thrown(() => downloadOver(fresh)))).toEqual({ status: 404, headers: {}, json: { error: { message: 'URL signature expired' } } });
  });

  it('POST /:version/:phoneNumberId/media is on GraphController (version, token and number checked) and hands the Content-Type and raw body to the core', () => {
    const handler = GraphController.prototype.uploadMedia as object;
    expect([RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod], Reflect.getMetadata(PATH_METADATA, GraphController), Reflect.getMetadata(PATH_METADATA, handler)]).toEqual([
      'POST',
      ':version/:phoneNumberId',
      'media',
    ]);
    const bytes = Buffer.from('ID3 pretend mp3');
    const form = multipartBody(uploadFields(bytes, { type: 'audio/mpeg' }));

    const { id } = new GraphController(h.core).uploadMedia(form.contentType, form.body);

    expect(h.core.mediaStore.get(id)?.bytes.equals(bytes)).toBe(true);
    expect(httpAnswer(thrown(() => new GraphController(h.core).uploadMedia('application/json', {})))).toMatchObject({ status: 400, json: { error: { code: 100 } } });
  });

  it("the URL's origin is the request's Host, or the socket's local address when the Host header is missing", () => {
    expect(requestOrigin(fakeRequest({ host: '10.0.0.5:8090' }))).toBe('http://10.0.0.5:8090');
    expect(requestOrigin(fakeRequest())).toBe('http://[::1]:18090');
    expect(requestOrigin(fakeRequest({ host: 'evil/path?x' }))).toBe('http://[::1]:18090');
  });
});
