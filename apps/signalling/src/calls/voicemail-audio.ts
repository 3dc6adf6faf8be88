import { Inject, Injectable } from '@nestjs/common';
import type { CallRecord } from '@wagw/call-state';
import type { Logger } from '@wagw/logging';
import { GraphApiError, type WhatsAppGraphClient } from '@wagw/whatsapp';
import { CLOCK, GRAPH_CLIENT, SIGNALLING_LOGGER, type Clock } from '../signalling.tokens';

/** Why a call's voicemail cannot be given: 404 none was left, 410 Meta no longer has it. */
export class VoicemailUnavailableError extends Error {
  constructor(
    readonly code: 'NO_VOICEMAIL' | 'VOICEMAIL_EXPIRED',
    message: string,
    readonly httpStatus: number,
  ) {
    super(message);
    this.name = 'VoicemailUnavailableError';
  }
}

export interface VoicemailAudioFile {
  callId: string;
  mediaId: string;
  mimeType: string;
  bytes: Buffer;
}

/** Extensions of WhatsApp's audio types (Meta "Supported media types"). */
const EXTENSIONS: Record<string, string> = { 'audio/ogg': 'ogg', 'audio/opus': 'opus', 'audio/mpeg': 'mp3', 'audio/mp4': 'm4a', 'audio/aac': 'aac', 'audio/amr': 'amr' };

/** A download name for the file: `voicemail-<callId>.<ext>`, nothing outside [A-Za-z0-9._-]. */
export function voicemailFileName(file: Pick<VoicemailAudioFile, 'callId' | 'mimeType'>): string {
  const type = file.mimeType.split(';')[0]?.trim().toLowerCase() ?? '';
  return `voicemail-${file.callId.replace(/[^A-Za-z0-9._-]/g, '_')}.${EXTENSIONS[type] ?? 'bin'}`;
}

/** Recently fetched recordings kept, so an agent replaying one does not cost two Graph requests each time. */
const CACHE_ENTRIES = 32;
const CACHE_BYTES = 32 * 1024 * 1024;
const CACHE_TTL_MS = 10 * 60_000;

/**
 * A call's voicemail audio for the CRM (`GET /v1/calls/{id}/voicemail`): Meta's media id on the call record
 * (set when the `messages` audio webhook came, reference §2.9) is looked up (`GET /<MEDIA_ID>`, a link valid
 * 5 minutes) and downloaded with the access token, its SHA-256 checked; the CRM never needs Meta's token.
 * Media ids from webhooks live 7 days at Meta: after that the answer is 410. A small cache (32 recordings,
 * 32 MB, 10 minutes) serves replays.
 */
@Injectable()
export class VoicemailAudio {
  readonly #cache = new Map<string, { file: VoicemailAudioFile; at: number }>();
  #cachedBytes = 0;

  constructor(
    @Inject(GRAPH_CLIENT) private readonly graph: WhatsAppGraphClient,
    @Inject(SIGNALLING_LOGGER) private readonly logger: Logger,
    @Inject(CLOCK) private readonly now: Clock,
  ) {}

  async fetch(record: CallRecord): Promise<VoicemailAudioFile> {
    const mediaId = record.voicemailMediaId;
    if (mediaId === undefined) throw new VoicemailUnavailableError('NO_VOICEMAIL', `call ${record.callId} has no voicemail`, 404);
    const cached = this.#cached(mediaId);
    if (cached) return { ...cached, callId: record.callId };
    const log = this.logger.child({ callId: record.callId, mediaId });
    try {
      const info = await this.graph.getMedia(mediaId);
      const got = await this.graph.downloadMedia(info);
      const file: VoicemailAudioFile = { callId: record.callId, mediaId, mimeType: got.mimeType, bytes: got.bytes };
      this.#remember(file);
      log.info({ bytes: got.bytes.length, mimeType: got.mimeType }, 'voicemail audio fetched from Meta');
      return file;
    } catch (err) {
      if (err instanceof GraphApiError && err.metaCode === 100 && err.httpStatus < 500) {
        log.warn({ metaCode: err.metaCode, metaSubcode: err.metaSubcode }, 'voicemail audio no longer at Meta');
        throw new VoicemailUnavailableError('VOICEMAIL_EXPIRED', `Meta no longer has voicemail ${mediaId} of call ${record.callId} (media ids from webhooks live 7 days): ${err.metaMessage ?? err.reason}`, 410);
      }
      log.warn({ err }, 'voicemail audio could not be fetched from Meta');
      throw err;
    }
  }

  #cached(mediaId: string): VoicemailAudioFile | undefined {
    const hit = this.#cache.get(mediaId);
    if (!hit) return undefined;
    if (this.now() - hit.at > CACHE_TTL_MS) {
      this.#forget(mediaId);
      return undefined;
    }
    return hit.file;
  }

  #remember(file: VoicemailAudioFile): void {
    if (file.bytes.length > CACHE_BYTES) return;
    this.#forget(file.mediaId);
    this.#cache.set(file.mediaId, { file, at: this.now() });
    this.#cachedBytes += file.bytes.length;
    // oldest first (a Map keeps insertion order)
    for (const key of this.#cache.keys()) {
      if (this.#cache.size <= CACHE_ENTRIES && this.#cachedBytes <= CACHE_BYTES) break;
      this.#forget(key);
    }
  }

  #forget(mediaId: string): void {
    const hit = this.#cache.get(mediaId);
    if (!hit) return;
    this.#cache.delete(mediaId);
    this.#cachedBytes -= hit.file.bytes.length;
  }
}
