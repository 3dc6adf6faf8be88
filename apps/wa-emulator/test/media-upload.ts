import { toneAsOggOpus } from '@wagw/media-bridge';
import type { EmulatorCore } from '../src/domain/emulator.core';

/** One part of a multipart/form-data body: a field, or a file when `filename` is set. */
export interface FormField {
  name: string;
  value: string | Buffer;
  filename?: string;
  contentType?: string;
}

/** A Content-Type header and the body it describes. */
export interface MultipartRequest {
  contentType: string;
  body: Buffer;
}

export const TEST_BOUNDARY = '------------------------wagw7f3a9c';

/** A multipart/form-data body built by hand (CRLF delimiters, as `curl -F` sends it). */
export function multipartBody(fields: readonly FormField[], boundary = TEST_BOUNDARY): MultipartRequest {
  const chunks: Buffer[] = [];
  for (const f of fields) {
    const disposition = `Content-Disposition: form-data; name="${f.name}"${f.filename !== undefined ? `; filename="${f.filename}"` : ''}`;
    const headers = [disposition, ...(f.contentType !== undefined ? [`Content-Type: ${f.contentType}`] : [])];
    chunks.push(Buffer.from(`--${boundary}\r\n${headers.join('\r\n')}\r\n\r\n`), Buffer.isBuffer(f.value) ? f.value : Buffer.from(f.value), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { contentType: `multipart/form-data; boundary=${boundary}`, body: Buffer.concat(chunks) };
}

export interface UploadOptions {
  /** The `type` field; default audio/ogg; null leaves it out. */
  type?: string | null;
  /** The file part's Content-Type; default `type`'s value (audio/ogg). */
  fileType?: string;
  /** The `use_case` field; omitted: none. */
  useCase?: string;
  /** The messaging_product field; default whatsapp; null leaves it out. */
  messagingProduct?: string | null;
  filename?: string;
}

/** The fields of a Cloud API media upload of `file`, in the order Meta's curl sample sends them. */
export function uploadFields(file: Buffer, options: UploadOptions = {}): FormField[] {
  const type = options.type === undefined ? 'audio/ogg' : options.type;
  const product = options.messagingProduct === undefined ? 'whatsapp' : options.messagingProduct;
  return [
    { name: 'file', value: file, filename: options.filename ?? 'audio.ogg', contentType: options.fileType ?? type ?? 'audio/ogg' },
    ...(type !== null ? [{ name: 'type', value: type }] : []),
    ...(product !== null ? [{ name: 'messaging_product', value: product }] : []),
    ...(options.useCase !== undefined ? [{ name: 'use_case', value: options.useCase }] : []),
  ];
}

/** A `durationS` s Ogg Opus 440 Hz tone, uploaded as a voicemail announcement through the core; its media id. */
export function uploadAnnouncement(core: EmulatorCore, durationS = 1): string {
  const form = multipartBody(uploadFields(toneAsOggOpus({ frequencyHz: 440, durationS }), { useCase: 'call_voicemail_announcement' }));
  return core.uploadMedia(form.contentType, form.body).id;
}
