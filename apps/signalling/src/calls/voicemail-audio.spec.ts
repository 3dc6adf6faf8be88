import type { CallRecord } from '@wagw/call-state';
import { silentLogger } from '@wagw/logging';
import { GraphApiError, GraphResponseError, type MediaInfo, type WhatsAppGraphClient } from '@wagw/whatsapp';
import { VoicemailAudio, VoicemailUnavailableError, voicemailFileName } from './voicemail-audio';

const AUDIO = Buffer.from('OggS pretend recording');
const INFO: MediaInfo = { mediaId: '900000000000001', url: 'https://lookaside.example.test/a?mid=9', mimeType: 'audio/ogg; codecs=opus', sha256: 'ab'.repeat(32) };

function record(over: Partial<CallRecord> = {}): CallRecord {
  return { callId: 'call_1', state: 'ended', voicemailMediaId: '900000000000001', ...over } as CallRecord;
}

/** A Graph client double with only the two media calls, counting them. */
function setup(opts: { getMedia?: () => Promise<MediaInfo>; size?: number } = {}) {
  let now = 1_000_000;
  const calls = { getMedia: 0, downloadMedia: 0 };
  const graph = {
    getMedia: async (mediaId: string) => {
      calls.getMedia++;
      return opts.getMedia ? opts.getMedia() : { ...INFO, mediaId };
    },
    downloadMedia: async (info: MediaInfo) => {
      calls.downloadMedia++;
      return { bytes: opts.size ? Buffer.alloc(opts.size, info.mediaId.length) : AUDIO, mimeType: info.mimeType };
    },
  } as unknown as WhatsAppGraphClient;
  const audio = new VoicemailAudio(graph, silentLogger(), () => now);
  return { audio, calls, advance: (ms: number) => (now += ms) };
}

describe('VoicemailAudio', () => {
  it('looks the media up at Meta and downloads it, and serves a replay from its cache for 10 minutes', async () => {
    const { audio, calls, advance } = setup();
    await expect(audio.fetch(record())).resolves.toEqual({ callId: 'call_1', mediaId: '900000000000001', mimeType: 'audio/ogg; codecs=opus', bytes: AUDIO });
    // the same recording reached through another id of the call (its WhatsApp call id) is the cached one
    await expect(audio.fetch(record({ callId: 'call_1b' }))).resolves.toMatchObject({ callId: 'call_1b', bytes: AUDIO });
    expect(calls).toEqual({ getMedia: 1, downloadMedia: 1 });
    advance(10 * 60_000 + 1);
    await audio.fetch(record());
    expect(calls).toEqual({ getMedia: 2, downloadMedia: 2 });
  });

  it('keeps at most 32 recordings and 32 MB, dropping the oldest', async () => {
    const { audio, calls } = setup({ size: 3 * 1024 * 1024 });
    for (let i = 0; i < 11; i++) await audio.fetch(record({ voicemailMediaId: `9${i}` }));
    expect(calls.getMedia).toBe(11);
    await audio.fetch(record({ voicemailMediaId: '910' })); // the newest is still there
    expect(calls.getMedia).toBe(11);
    await audio.fetch(record({ voicemailMediaId: '90' })); // 11 x 3 MB is over 32 MB: the oldest went
    expect(calls.getMedia).toBe(12);
  });

  it('says 404 when the call has no voicemail, without asking Meta', async () => {
    const { audio, calls } = setup();
    const err = await audio.fetch(record({ voicemailMediaId: undefined })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VoicemailUnavailableError);
    expect(err).toMatchObject({ code: 'NO_VOICEMAIL', httpStatus: 404, message: 'call call_1 has no voicemail' });
    expect(calls.getMedia).toBe(0);
  });

  it("says 410 when Meta no longer has the media (its code 100), with Meta's words", async () => {
    const gone = new GraphApiError('invalid_parameter', 'invalid parameter', { httpStatus: 400, metaCode: 100, metaSubcode: 33, metaMessage: "Unsupported get request. Object with ID '9' does not exist" });
    const { audio } = setup({ getMedia: () => Promise.reject(gone) });
    await expect(audio.fetch(record())).rejects.toMatchObject({ code: 'VOICEMAIL_EXPIRED', httpStatus: 410, message: expect.stringMatching(/Meta no longer has voicemail 900000000000001 of call call_1 .*Object with ID '9' does not exist/) });
  });

  it("passes Meta's other failures on as they are (the API answers them 502)", async () => {
    const bad = new GraphResponseError('media.download', 'hash mismatch');
    const { audio, calls } = setup({ getMedia: () => Promise.reject(bad) });
    await expect(audio.fetch(record())).rejects.toBe(bad);
    await expect(audio.fetch(record())).rejects.toBe(bad); // a failure is not cached
    expect(calls.getMedia).toBe(2);
  });

  it('names the file by call and type, with nothing a header could break on', () => {
    expect(voicemailFileName({ callId: 'call_1', mimeType: 'audio/ogg; codecs=opus' })).toBe('voicemail-call_1.ogg');
    expect(voicemailFileName({ callId: 'c"x\r\n/../y', mimeType: 'AUDIO/MPEG' })).toBe('voicemail-c_x___.._y.mp3');
    expect(voicemailFileName({ callId: 'c', mimeType: 'application/x-unknown' })).toBe('voicemail-c.bin');
  });
});
