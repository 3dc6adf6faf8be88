import { createHash } from 'node:crypto';
import { analyseTone, decodeOggOpus, looksLikeOggOpus, readOggOpus } from '@wagw/media-bridge';
import { type TestCore, freshTestCore, thrown } from '../../test/core-harness';
import { DAY_MS } from './clock';
import { GraphError, MediaLinkError } from './emulator.errors';
import { TransientGraphError } from './graph-faults';
import type { StoredMedia } from './media.store';

const WA_ID = '15552228888';
const ORIGIN = 'http://emulator.test:18090';
const MINUTE_MS = 60_000;


const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** The query of a download URL, as Express hands it over. */
const queryOf = (url: string): Record<string, string> => Object.fromEntries(new URL(url).searchParams);

describe('EmulatorCore: the voicemail recording, served as Meta\'s Cloud API "Media" serves it', () => {
  let h: TestCore;

  freshTestCore((c) => {
    h = c;
    h.core.createUser(WA_ID, 'Jane');
    h.core.updateSettings({ calling: { voicemail: { status: 'ENABLED', triggers: ['REJECT'] } } });
  });

  /** A rejected user call, then the voicemail on it. */
  const leaveVoicemail = async (input: { durationS?: number; toneHz?: number } = {}): Promise<{ waCallId: string; mediaId: string; sha256: string; fileSize: number }> => {
    const { waCallId } = await h.core.userCall(WA_ID);
    await h.core.callsAction({ messaging_product: 'whatsapp', call_id: waCallId, action: 'reject' });
    return h.core.leaveVoicemail(WA_ID, input);
  };
  const mediaInfo = (mediaId: string, query: Record<string, unknown> = {}): Record<string, unknown> => h.core.getMedia(mediaId, query, ORIGIN);
  const download = (mediaId: string): StoredMedia => h.core.downloadMedia(queryOf(mediaInfo(mediaId)['url'] as string));
  const webhookAudio = (): { sha256: string; id: string } => {
    const body = h.transport.bodies.at(-1) as { entry: { changes: { value: { messages: { audio: { sha256: string; id: string } }[] } }[] }[] };
    return body.entry[0]!.changes[0]!.value.messages[0]!.audio;
  };

  it('the recording is an Ogg Opus file of durationS seconds that decodes to the toneHz tone', async () => {
    const { mediaId } = await leaveVoicemail({ durationS: 2, toneHz: 1000 });

    const { bytes } = download(mediaId);

    expect(looksLikeOggOpus(bytes)).toBe(true);
    const file = readOggOpus(bytes);
    expect(file.packets).toHaveLength(100); // 2 s of 20 ms packets
    expect(file.finalGranule - file.head.preSkip).toBe(2 * 48_000);
    const pcm = decodeOggOpus(file);
    const tone = analyseTone(pcm, 1000, 48_000);
    expect(tone.framesWithTone).toBeGreaterThan(tone.frames * 0.9);
    expect(analyseTone(pcm, 440, 48_000).framesWithTone).toBe(0);
  });

  it('without toneHz the recording holds 440 Hz, and the call view shows the media id and tone', async () => {
    const { waCallId, mediaId } = await leaveVoicemail({ durationS: 1 });

    const pcm = decodeOggOpus(readOggOpus(download(mediaId).bytes));
    const tone = analyseTone(pcm, 440, 48_000);

    expect(tone.framesWithTone).toBeGreaterThan(tone.frames * 0.9);
    expect(h.core.callView(waCallId)['voicemail']).toEqual({ mediaId, leftAt: expect.any(Number), durationS: 1, toneHz: 440 });
  });

  it("the webhook's sha256 and the control answer's sha256 and fileSize are those of the bytes served", async () => {
    const left = await leaveVoicemail({ durationS: 3 });
    await h.core.webhooksIdle();

    const served = download(left.mediaId);

    expect(webhookAudio()).toMatchObject({ id: left.mediaId, sha256: sha256(served.bytes) });
    expect(left).toMatchObject({ sha256: sha256(served.bytes), fileSize: served.bytes.length });
    expect(served.mimeType).toBe('audio/ogg; codecs=opus');
  });

  it('GET /<MEDIA_ID> answers Meta\'s metadata with a download URL on the origin the request came to; phone_number_id may name our number', async () => {
    const { mediaId, fileSize } = await leaveVoicemail();
    const stored = h.core.mediaStore.get(mediaId) as StoredMedia;
    const ext = Math.floor((h.core.clock.now() + 5 * MINUTE_MS) / 1000);

    const info = mediaInfo(mediaId, { phone_number_id: h.config.whatsapp.phoneNumberId });

    expect(info).toEqual({
      messaging_product: 'whatsapp',
      url: expect.stringMatching(new RegExp(`^${ORIGIN}/whatsapp_business/attachments/\\?mid=${mediaId}&ext=${ext}&hash=[\\w-]{43}$`)),
      mime_type: 'audio/ogg; codecs=opus',
      sha256: stored.sha256,
      file_size: fileSize,
      id: mediaId,
    });
    expect(h.core.getMedia(mediaId, {}, 'http://127.0.0.1:8090')['url']).toMatch(/^http:\/\/127\.0\.0\.1:8090\/whatsapp_business\/attachments\/\?mid=/);
  });

  it('a phone_number_id that is not ours is refused with 100 / HTTP 400', async () => {
    const { mediaId } = await leaveVoicemail();

    const err = thrown(() => mediaInfo(mediaId, { phone_number_id: '999999999999999' }));

    expect(err).toBeInstanceOf(GraphError);
    expect(err).toMatchObject({ metaCode: 100, httpStatus: 400, errorData: { details: expect.stringContaining('999999999999999') } });
    expect(thrown(() => mediaInfo(mediaId, { phone_number_id: ['1', '2'] }))).toMatchObject({ metaCode: 100, httpStatus: 400 });
  });

  it("an unknown media id is Graph's unknown-object answer: 100, subcode 33, GraphMethodException, HTTP 400", () => {
    const err = thrown(() => mediaInfo('1234567890123456'));

    expect(err).toBeInstanceOf(GraphError);
    expect(err).toMatchObject({
      metaCode: 100,
      subcode: 33,
      httpStatus: 400,
      type: 'GraphMethodException',
      message: "Unsupported get request. Object with ID '1234567890123456' does not exist, cannot be loaded due to missing permissions, or does not support this operation.",
    });
  });

  it('the media id expires 7 days after the voicemail on the emulator clock; a live download URL then finds nothing', async () => {
    const { mediaId } = await leaveVoicemail();
    h.core.advanceClock(7 * DAY_MS - MINUTE_MS);
    const url = mediaInfo(mediaId)['url'] as string;

    h.core.advanceClock(MINUTE_MS);

    expect(thrown(() => mediaInfo(mediaId))).toMatchObject({ metaCode: 100, subcode: 33 });
    const err = thrown(() => h.core.downloadMedia(queryOf(url)));
    expect(err).toBeInstanceOf(MediaLinkError);
    expect(err).toMatchObject({ httpStatus: 404, message: `media ${mediaId} does not exist or has expired` });
  });

  it('a download URL is valid for 5 minutes on the emulator clock', async () => {
    const { mediaId } = await leaveVoicemail();
    const url = mediaInfo(mediaId)['url'] as string;

    h.core.advanceClock(5 * MINUTE_MS - 1000);
    expect(h.core.downloadMedia(queryOf(url)).id).toBe(mediaId);
    h.core.advanceClock(1000);

    expect(thrown(() => h.core.downloadMedia(queryOf(url)))).toMatchObject({ httpStatus: 404, message: 'URL signature expired' });
    expect(download(mediaId).id).toBe(mediaId); // a fresh GET /<MEDIA_ID> gives a fresh URL
  });

  it('a download URL whose hash, mid or ext was changed, or that lacks one, is refused with 404', async () => {
    const { mediaId } = await leaveVoicemail();
    const other = await leaveVoicemail();
    const query = queryOf(mediaInfo(mediaId)['url'] as string);
    const hash = query['hash'] as string;

    const refusals = [
      { ...query, hash: `${hash.slice(0, -1)}${hash.endsWith('A') ? 'B' : 'A'}` },
      { ...query, mid: other.mediaId },
      { ...query, ext: String(Number(query['ext']) + 3600) },
      { mid: query['mid'], ext: query['ext'] },
      { ...query, hash: [hash, hash] },
    ].map((q) => thrown(() => h.core.downloadMedia(q)));

    expect(refusals.every((e) => e instanceof MediaLinkError)).toBe(true);
    expect(refusals.map((e) => (e as MediaLinkError).message)).toEqual([
      'URL signature mismatch',
      'URL signature mismatch',
      'URL signature mismatch',
      'not a media download URL: mid, ext and hash are required',
      'not a media download URL: mid, ext and hash are required',
    ]);
  });

  it('a missing or wrong bearer token is refused with 190 / HTTP 401 (the media routes check only the token)', () => {
    expect(thrown(() => h.core.authorizeToken(undefined))).toMatchObject({ metaCode: 190, httpStatus: 401 });
    expect(thrown(() => h.core.authorizeToken('Bearer nope'))).toMatchObject({ metaCode: 190, httpStatus: 401 });
    expect(() => h.core.authorizeToken(`Bearer ${h.config.whatsapp.accessToken}`)).not.toThrow();
  });

  it('both requests go into the Graph request log as media and media_download, with the media id and the answer', async () => {
    const { mediaId } = await leaveVoicemail();
    download(mediaId);
    thrown(() => mediaInfo('1234567890123456'));
    thrown(() => h.core.downloadMedia({ mid: mediaId, ext: '1', hash: 'x' }));

    expect(h.core.graphRequests.list({ mediaId }).map(({ method, action, httpStatus, code }) => ({ method, action, httpStatus, code }))).toEqual([
      { method: 'GET', action: 'media', httpStatus: 200, code: undefined },
      { method: 'GET', action: 'media_download', httpStatus: 200, code: undefined },
      { method: 'GET', action: 'media_download', httpStatus: 404, code: undefined },
    ]);
    expect(h.core.graphRequests.list({ action: 'media' }).at(-1)).toMatchObject({ mediaId: '1234567890123456', httpStatus: 400, code: 100 });
  });

  it('armed graphFailures on media and media_download answer their transient error once', async () => {
    const { mediaId } = await leaveVoicemail();
    h.core.setFaults({ graphFailures: [{ action: 'media', status: 503, count: 1, when: 'before' }, { action: 'media_download', status: 429, count: 1, when: 'before' }] });

    expect(thrown(() => mediaInfo(mediaId))).toMatchObject({ metaCode: 2, httpStatus: 503 });
    const url = mediaInfo(mediaId)['url'] as string;
    const err = thrown(() => h.core.downloadMedia(queryOf(url)));

    expect(err).toBeInstanceOf(TransientGraphError);
    expect(err).toMatchObject({ metaCode: 4, httpStatus: 429 });
    expect(h.core.downloadMedia(queryOf(url)).id).toBe(mediaId);
  });

  it('reset forgets the stored recordings', async () => {
    const { mediaId } = await leaveVoicemail();

    await h.core.reset();

    expect(h.core.mediaStore.size).toBe(0);
    expect(thrown(() => mediaInfo(mediaId))).toMatchObject({ metaCode: 100, subcode: 33 });
  });
});
