import { createHash } from 'node:crypto';
import { toneAsOggOpus } from '@wagw/media-bridge';
import { type TestCore, freshTestCore, thrown } from '../../test/core-harness';
import { type FormField, TEST_BOUNDARY, type UploadOptions, multipartBody, uploadAnnouncement, uploadFields } from '../../test/media-upload';
import { DAY_MS } from './clock';
import { GraphError } from './emulator.errors';
import { TransientGraphError } from './graph-faults';
import { MAX_AUDIO_UPLOAD_BYTES } from './media-upload.flow';

const ORIGIN = 'http://emulator.test:18090';
const MINUTE_MS = 60_000;
const ANNOUNCEMENT = 'call_voicemail_announcement';
/** Bytes that stand for an MP3 (no use_case: the emulator does not decode them). */
const MP3 = Buffer.concat([Buffer.from('ID3'), Buffer.alloc(500, 0x5a)]);


/** error_data.details of a 400/100 refusal. */
function details(fn: () => unknown): string | undefined {
  const err = thrown(fn);
  if (!(err instanceof GraphError)) throw err;
  expect({ metaCode: err.metaCode, httpStatus: err.httpStatus, message: err.message }).toEqual({ metaCode: 100, httpStatus: 400, message: '(#100) Invalid parameter' });
  return err.errorData?.details;
}

const queryOf = (url: string): Record<string, string> => Object.fromEntries(new URL(url).searchParams);

describe('EmulatorCore: media upload, POST /<PHONE_NUMBER_ID>/media (Cloud API "Media")', () => {
  let h: TestCore;

  freshTestCore((c) => (h = c));

  const upload = (fields: readonly FormField[]): { id: string } => {
    const form = multipartBody(fields);
    return h.core.uploadMedia(form.contentType, form.body);
  };
  const uploadFile = (file: Buffer, options: UploadOptions = {}): { id: string } => upload(uploadFields(file, options));
  const refusalOf = (file: Buffer, options: UploadOptions = {}): string | undefined => details(() => uploadFile(file, options));

  it('an upload is answered { id }; GET /<MEDIA_ID> and its download URL serve the same bytes with the type sent', () => {
    const { id } = uploadFile(MP3, { type: 'audio/mpeg' });

    const info = h.core.getMedia(id, {}, ORIGIN);
    const served = h.core.downloadMedia(queryOf(info['url'] as string));

    expect(id).toMatch(/^[1-8]\d{15}$/);
    expect(info).toEqual({
      messaging_product: 'whatsapp',
      url: expect.stringMatching(new RegExp(`^${ORIGIN}/whatsapp_business/attachments/\\?mid=${id}&`)),
      mime_type: 'audio/mpeg',
      sha256: createHash('sha256').update(MP3).digest('hex'),
      file_size: MP3.length,
      id,
    });
    expect(served.bytes.equals(MP3)).toBe(true);
    expect(served.mimeType).toBe('audio/mpeg');
    expect(h.core.mediaStore.get(id)).not.toHaveProperty('useCase');
  });

  it('every supported audio type is taken without decoding, parameters kept in the stored type', () => {
    for (const type of ['audio/ogg', 'audio/mpeg', 'audio/mp4', 'audio/aac', 'audio/amr']) expect(h.core.mediaStore.get(uploadFile(MP3, { type }).id)?.mimeType).toBe(type);
    const { id } = uploadFile(MP3, { type: 'audio/ogg; codecs=opus', fileType: 'audio/ogg' });
    expect(h.core.getMedia(id, {}, ORIGIN)['mime_type']).toBe('audio/ogg; codecs=opus');
  });

  it('a voicemail announcement of 59 s is taken and remembered with its use case; one of 61 s is refused', () => {
    const { id } = uploadFile(toneAsOggOpus({ frequencyHz: 440, durationS: 59 }), { type: 'audio/ogg; codecs=opus', useCase: ANNOUNCEMENT });
    expect(h.core.mediaStore.get(id)).toMatchObject({ useCase: ANNOUNCEMENT, mimeType: 'audio/ogg; codecs=opus' });

    expect(refusalOf(toneAsOggOpus({ frequencyHz: 440, durationS: 61 }), { useCase: ANNOUNCEMENT })).toBe(
      'use_case=call_voicemail_announcement: the announcement is 61.00 s long; it must be under 60 s',
    );
    expect(h.core.mediaStore.size).toBe(1);
  });

  it('an announcement must be an Ogg Opus file of type audio/ogg', () => {
    expect(refusalOf(MP3, { type: 'audio/mpeg', useCase: ANNOUNCEMENT })).toBe('use_case=call_voicemail_announcement needs an audio/ogg (Opus) file, got type "audio/mpeg"');
    expect(refusalOf(MP3, { useCase: ANNOUNCEMENT })).toBe('use_case=call_voicemail_announcement: the file is not an Ogg Opus file (no Ogg page at byte 0)');
  });

  it('refuses, with the reason in error_data.details, every malformed upload, and stores nothing', () => {
    const ogg = toneAsOggOpus({ frequencyHz: 440, durationS: 1 });
    expect(details(() => h.core.uploadMedia('application/json', { messaging_product: 'whatsapp' }))).toBe('the body must be multipart/form-data with messaging_product, type and file');
    const cut = multipartBody(uploadFields(ogg)).body.subarray(0, 200);
    expect(details(() => h.core.uploadMedia(multipartBody([]).contentType, cut))).toBe(`multipart/form-data body: the body ends in part 1 without the closing delimiter --${TEST_BOUNDARY}--`);
    expect(details(() => h.core.uploadMedia('multipart/form-data', multipartBody(uploadFields(ogg)).body))).toBe('multipart/form-data body: Content-Type multipart/form-data has no boundary parameter');
    expect(refusalOf(ogg, { messagingProduct: null })).toBe('Param messaging_product is required and must be "whatsapp"');
    expect(refusalOf(ogg, { messagingProduct: 'instagram' })).toBe('Param messaging_product must be "whatsapp", got "instagram"');
    expect(details(() => upload([{ name: 'messaging_product', value: 'whatsapp' }, { name: 'type', value: 'audio/ogg' }]))).toBe(
      'Param file is required: the media as a file part (Content-Disposition with a filename)',
    );
    expect(details(() => upload([{ name: 'messaging_product', value: 'whatsapp' }, { name: 'type', value: 'audio/ogg' }, { name: 'file', value: ogg, contentType: 'audio/ogg' }]))).toBe(
      'Param file must be a file part (Content-Disposition with a filename)',
    );
    expect(refusalOf(ogg, { type: 'audio/ogg', fileType: 'application/octet-stream' })).toBe(
      "Param file must be a file with one of the following types: audio/aac, audio/amr, audio/mp4, audio/mpeg, audio/ogg. Received file of type 'application/octet-stream'.",
    );
    expect(refusalOf(ogg, { type: null })).toBe("Param type is required: the file's MIME type (audio/aac, audio/amr, audio/mp4, audio/mpeg, audio/ogg)");
    expect(refusalOf(ogg, { type: 'video/mp4', fileType: 'audio/ogg' })).toBe('Param type "video/mp4" is not a supported media type (audio/aac, audio/amr, audio/mp4, audio/mpeg, audio/ogg)');
    expect(refusalOf(ogg, { type: 'audio/mpeg', fileType: 'audio/ogg' })).toBe('Param type "audio/mpeg" does not match the file\'s Content-Type "audio/ogg"');
    expect(refusalOf(ogg, { useCase: 'call_hold_music' })).toBe('Param use_case "call_hold_music" is not supported (call_voicemail_announcement)');
    expect(refusalOf(Buffer.alloc(0))).toBe('Param file is empty');
    expect(details(() => upload([...uploadFields(ogg), { name: 'type', value: 'audio/ogg' }]))).toBe('multipart/form-data body: field "type" is sent twice (parts 2 and 4)');
    expect(details(() => upload([...uploadFields(ogg).filter((f) => f.name !== 'type'), { name: 'type', value: 'audio/ogg', filename: 't.txt' }]))).toBe(
      'Param type must be a form field, not a file',
    );
    expect(h.core.mediaStore.size).toBe(0);
  });

  it('audio over 16 MB is refused; 16 MB is taken', () => {
    expect(refusalOf(Buffer.alloc(MAX_AUDIO_UPLOAD_BYTES + 1, 1), { type: 'audio/mpeg' })).toBe(
      `Param file is ${MAX_AUDIO_UPLOAD_BYTES + 1} bytes: audio media are limited to 16 MB (16777216 bytes)`,
    );
    expect(h.core.mediaStore.get(uploadFile(Buffer.alloc(MAX_AUDIO_UPLOAD_BYTES, 1), { type: 'audio/mpeg' }).id)?.fileSize).toBe(MAX_AUDIO_UPLOAD_BYTES);
  });

  it('an uploaded media id lives 30 days on the emulator clock (a voicemail recording 7)', () => {
    const { id } = uploadFile(MP3, { type: 'audio/mpeg' });
    const recording = h.core.mediaStore.put(MP3, 'audio/ogg; codecs=opus');

    h.core.advanceClock(7 * DAY_MS);
    expect(thrown(() => h.core.getMedia(recording.id, {}, ORIGIN))).toMatchObject({ metaCode: 100, subcode: 33 });
    h.core.advanceClock(23 * DAY_MS - MINUTE_MS);
    expect(h.core.getMedia(id, {}, ORIGIN)['id']).toBe(id);

    h.core.advanceClock(MINUTE_MS);
    expect(thrown(() => h.core.getMedia(id, {}, ORIGIN))).toMatchObject({ metaCode: 100, subcode: 33 });
  });

  it('each upload goes into the Graph request log as media_upload, with the new media id when it succeeded', () => {
    const { id } = uploadFile(MP3, { type: 'audio/mpeg' });
    thrown(() => uploadFile(MP3, { type: 'video/mp4' }));

    expect(h.core.graphRequests.list({ action: 'media_upload' }).map(({ method, mediaId, httpStatus, code }) => ({ method, mediaId, httpStatus, code }))).toEqual([
      { method: 'POST', mediaId: id, httpStatus: 200, code: undefined },
      { method: 'POST', mediaId: undefined, httpStatus: 400, code: 100 },
    ]);
  });

  it('armed graphFailures on media_upload: before stores nothing; after stores the media, then answers the error', () => {
    h.core.setFaults({ graphFailures: [{ action: 'media_upload', status: 503, count: 1, when: 'before' }, { action: 'media_upload', status: 500, count: 1, when: 'after' }] });

    expect(thrown(() => uploadFile(MP3, { type: 'audio/mpeg' }))).toMatchObject({ metaCode: 2, httpStatus: 503 });
    expect(h.core.mediaStore.size).toBe(0);
    const after = thrown(() => uploadFile(MP3, { type: 'audio/mpeg' }));

    expect(after).toBeInstanceOf(TransientGraphError);
    expect(after).toMatchObject({ metaCode: 1, httpStatus: 500, when: 'after' });
    const record = h.core.graphRequests.list({ action: 'media_upload' }).at(-1);
    expect(record).toMatchObject({ httpStatus: 500, injected: 'after', mediaId: expect.any(String) });
    expect(h.core.mediaStore.get(record?.mediaId as string)?.bytes.equals(MP3)).toBe(true);
  });
});

describe('EmulatorCore: the voicemail announcement in POST settings must be an announcement upload', () => {
  let h: TestCore;

  freshTestCore((c) => (h = c));

  const withAnnouncement = (id: unknown) => ({ calling: { voicemail: { status: 'ENABLED', triggers: ['REJECT'], audio: { default: { announcement_media_id: id, timeout_seconds: 20 } } } } });
  const FIELD = 'calling.voicemail.audio.default.announcement_media_id';

  it('an announcement upload is taken, as the string the upload answered or as a number (Meta\'s sample)', () => {
    const id = uploadAnnouncement(h.core);

    expect(h.core.updateSettings(withAnnouncement(id))).toEqual({ success: true });
    expect(h.core.updateSettings(withAnnouncement(Number(id)))).toEqual({ success: true });
    expect(h.core.getSettings()['calling']).toMatchObject({ voicemail: { audio: { default: { announcement_media_id: Number(id) } } } });
  });

  it('an unknown or expired id, a recording, or an upload without the use case is refused with 100 naming the field, and nothing changes', async () => {
    const plain = multipartBody(uploadFields(toneAsOggOpus({ frequencyHz: 440, durationS: 1 })));
    const uploadedPlain = h.core.uploadMedia(plain.contentType, plain.body).id;
    const recording = h.core.mediaStore.put(toneAsOggOpus({ frequencyHz: 440, durationS: 1 }), 'audio/ogg; codecs=opus').id;
    const announcement = uploadAnnouncement(h.core);
    await h.core.webhooksIdle();
    const before = h.transport.bodies.length;

    expect(details(() => h.core.updateSettings(withAnnouncement(938884519013664)))).toBe(
      `${FIELD}: media 938884519013664 was not uploaded (POST /<PHONE_NUMBER_ID>/media with use_case=call_voicemail_announcement) or has expired`,
    );
    expect(details(() => h.core.updateSettings(withAnnouncement(recording)))).toBe(`${FIELD}: media ${recording} was not uploaded with use_case=call_voicemail_announcement`);
    expect(details(() => h.core.updateSettings(withAnnouncement(uploadedPlain)))).toBe(`${FIELD}: media ${uploadedPlain} was not uploaded with use_case=call_voicemail_announcement`);
    h.core.advanceClock(30 * DAY_MS);
    expect(details(() => h.core.updateSettings(withAnnouncement(announcement)))).toMatch(/was not uploaded \(POST .*\) or has expired$/);

    await h.core.webhooksIdle();
    expect(h.transport.bodies).toHaveLength(before);
    expect(h.core.getSettings()['calling']).not.toHaveProperty('voicemail');
  });
});
