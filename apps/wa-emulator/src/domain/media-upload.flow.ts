import type { Logger } from '@wagw/logging';
import { OggFormatError, readOggOpus } from '@wagw/media-bridge';
import { DAY_MS } from './clock';
import { invalidParameter } from './emulator.errors';
import type { MediaStore } from './media.store';
import { type FormPart, MULTIPART_LIMITS, type MultipartForm, MultipartFormError, parseMultipartForm } from './multipart-form.parser';

/** The `use_case` values of an upload the emulator knows: the voicemail announcement (reference §5.1, CS-2606). */
export const MEDIA_USE_CASES = ['call_voicemail_announcement'] as const;
export type MediaUseCase = (typeof MEDIA_USE_CASES)[number];

/** Cloud API "Media", supported media types: the audio ones (the emulator takes no images, video or documents). */
export const UPLOAD_AUDIO_TYPES = ['audio/aac', 'audio/amr', 'audio/mp4', 'audio/mpeg', 'audio/ogg'] as const;
/** Cloud API "Media": audio files up to 16 MB. */
export const MAX_AUDIO_UPLOAD_BYTES = 16 * 1024 * 1024;
/** The whole multipart body: the 16 MB file plus room for the fields and part headers. */
export const MEDIA_UPLOAD_MAX_BODY_BYTES = 20 * 1024 * 1024;
/** Cloud API "Media": an uploaded media id lives 30 days (webhook media ids 7 days). */
export const UPLOADED_MEDIA_TTL_MS = 30 * DAY_MS;
/** Reference §5.1: "The announcement must be under 60 s, `audio/ogg` Opus". */
export const MAX_ANNOUNCEMENT_S = 60;

const TYPE_LIST = UPLOAD_AUDIO_TYPES.join(', ');

export interface MediaUploadDeps {
  store: MediaStore;
  logger: Logger;
}

/** What a checked upload stores. */
interface CheckedUpload {
  bytes: Buffer;
  /** The `type` field as sent (parameters such as `; codecs=opus` kept). */
  mimeType: string;
  useCase?: MediaUseCase;
}

/** `audio/ogg; codecs=opus` -> `audio/ogg`. */
function mediaTypeOf(mimeType: string): string {
  return (mimeType.split(';')[0] ?? '').trim().toLowerCase();
}

function isAudioType(mediaType: string): boolean {
  return (UPLOAD_AUDIO_TYPES as readonly string[]).includes(mediaType);
}

/** A text field's value; a file part under a field's name is refused. */
function textField(form: MultipartForm, name: string): string | undefined {
  const part = form.get(name);
  if (part === undefined) return undefined;
  if (part.filename !== undefined) throw invalidParameter(`Param ${name} must be a form field, not a file`);
  return part.body.toString('utf8');
}

function checkMessagingProduct(form: MultipartForm): void {
  const product = textField(form, 'messaging_product');
  if (product === undefined) throw invalidParameter('Param messaging_product is required and must be "whatsapp"');
  if (product !== 'whatsapp') throw invalidParameter(`Param messaging_product must be "whatsapp", got ${JSON.stringify(product)}`);
}

/** The `file` part: a file (with a filename), not empty, of a supported audio type, at most 16 MB. */
function checkFile(form: MultipartForm): FormPart {
  const file = form.get('file');
  if (file === undefined) throw invalidParameter('Param file is required: the media as a file part (Content-Disposition with a filename)');
  if (file.filename === undefined) throw invalidParameter('Param file must be a file part (Content-Disposition with a filename)');
  // Meta's wording for a file part of another type ("Received file of type 'application/octet-stream'")
  const received = file.contentType === undefined ? 'a file part without Content-Type' : `file of type '${file.contentType}'`;
  if (file.contentType === undefined || !isAudioType(mediaTypeOf(file.contentType))) {
    throw invalidParameter(`Param file must be a file with one of the following types: ${TYPE_LIST}. Received ${received}.`);
  }
  if (file.body.length === 0) throw invalidParameter('Param file is empty');
  if (file.body.length > MAX_AUDIO_UPLOAD_BYTES) {
    throw invalidParameter(`Param file is ${file.body.length} bytes: audio media are limited to 16 MB (${MAX_AUDIO_UPLOAD_BYTES} bytes)`);
  }
  return file;
}

/** The `type` field: a supported audio type, the same media type as the file part's Content-Type. */
function checkType(form: MultipartForm, file: FormPart): string {
  const type = textField(form, 'type')?.trim();
  if (type === undefined || type === '') throw invalidParameter(`Param type is required: the file's MIME type (${TYPE_LIST})`);
  if (!isAudioType(mediaTypeOf(type))) throw invalidParameter(`Param type ${JSON.stringify(type)} is not a supported media type (${TYPE_LIST})`);
  if (mediaTypeOf(type) !== mediaTypeOf(file.contentType ?? '')) {
    throw invalidParameter(`Param type ${JSON.stringify(type)} does not match the file's Content-Type ${JSON.stringify(file.contentType)}`);
  }
  return type;
}

function checkUseCase(form: MultipartForm): MediaUseCase | undefined {
  const useCase = textField(form, 'use_case');
  if (useCase === undefined) return undefined;
  if (!(MEDIA_USE_CASES as readonly string[]).includes(useCase)) {
    throw invalidParameter(`Param use_case ${JSON.stringify(useCase)} is not supported (${MEDIA_USE_CASES.join(', ')})`);
  }
  return useCase as MediaUseCase;
}

/** Reference §5.1: the announcement is `audio/ogg` Opus under 60 s (its length read from the Ogg granule positions). */
function checkAnnouncement(type: string, bytes: Buffer): void {
  const what = 'use_case=call_voicemail_announcement';
  if (mediaTypeOf(type) !== 'audio/ogg') throw invalidParameter(`${what} needs an audio/ogg (Opus) file, got type ${JSON.stringify(type)}`);
  let seconds: number;
  try {
    seconds = readOggOpus(bytes).durationS;
  } catch (err) {
    if (err instanceof OggFormatError) throw invalidParameter(`${what}: the file is not an Ogg Opus file (${err.message})`);
    throw err;
  }
  if (!(seconds > 0)) throw invalidParameter(`${what}: the file holds no audio`);
  if (seconds >= MAX_ANNOUNCEMENT_S) throw invalidParameter(`${what}: the announcement is ${seconds.toFixed(2)} s long; it must be under ${MAX_ANNOUNCEMENT_S} s`);
}

/**
 * Cloud API "Media", upload: `POST /<PHONE_NUMBER_ID>/media` with a multipart/form-data body of
 * `messaging_product=whatsapp`, `type` (the file's MIME type), `file` (the file part) and optionally
 * `use_case=call_voicemail_announcement` (reference §5.1). Every problem is 100 with the reason in
 * error_data.details; the upload is kept in the MediaStore for 30 days and answered `{ id }`, so
 * GET /<MEDIA_ID> and its download URL serve it. No I/O: the core logs the request, the HTTP layer reads the body.
 */
export class MediaUploadFlow {
  constructor(private readonly deps: MediaUploadDeps) {}

  upload(contentType: string | undefined, body: unknown): { id: string } {
    const upload = this.#check(this.#form(contentType, body));
    const useCase = upload.useCase;
    const media = this.deps.store.put(upload.bytes, upload.mimeType, { ttlMs: UPLOADED_MEDIA_TTL_MS, ...(useCase ? { useCase } : {}) });
    this.deps.logger.info({ mediaId: media.id, mimeType: media.mimeType, fileSize: media.fileSize, useCase }, 'media uploaded');
    return { id: media.id };
  }

  #form(contentType: string | undefined, body: unknown): MultipartForm {
    if (!Buffer.isBuffer(body)) throw invalidParameter('the body must be multipart/form-data with messaging_product, type and file');
    try {
      return parseMultipartForm(contentType, body, { ...MULTIPART_LIMITS, maxBytes: MEDIA_UPLOAD_MAX_BODY_BYTES });
    } catch (err) {
      if (err instanceof MultipartFormError) throw invalidParameter(`multipart/form-data body: ${err.message}`);
      throw err;
    }
  }

  #check(form: MultipartForm): CheckedUpload {
    checkMessagingProduct(form);
    const file = checkFile(form);
    const type = checkType(form, file);
    const useCase = checkUseCase(form);
    if (useCase === 'call_voicemail_announcement') checkAnnouncement(type, file.body);
    return { bytes: Buffer.from(file.body), mimeType: type, ...(useCase ? { useCase } : {}) };
  }
}
