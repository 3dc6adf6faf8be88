import type { Clock } from './clock';
import { MediaLinkError, invalidParameter, unknownObject } from './emulator.errors';
import { type MediaLinkQuery, MediaLinkSigner } from './media-link.signer';
import type { MediaStore, StoredMedia } from './media.store';

export interface MediaFlowDeps {
  clock: Clock;
  store: MediaStore;
  /** The business phone number id the stored media belongs to. */
  phoneNumberId: string;
  /** Secret of the download URLs' signature; default: random, per process. */
  linkSecret?: Buffer;
}

/**
 * Meta's Cloud API "Media" endpoints over the MediaStore (the users' voicemail recordings and the business's
 * uploads): retrieve a media URL (GET /<MEDIA_ID>), then download it from that URL. No I/O: the core logs these
 * as Graph requests and the HTTP layer checks the token and writes the bytes.
 */
export class MediaFlow {
  readonly #links: MediaLinkSigner;

  constructor(private readonly deps: MediaFlowDeps) {
    this.#links = new MediaLinkSigner(deps.clock, deps.linkSecret);
  }

  /**
   * GET /<MEDIA_ID>: the media's metadata and a download URL on `origin` (the host the request came to), valid
   * 5 minutes. A `phone_number_id` that is not ours is refused (100); an unknown or expired id (webhook media
   * ids live 7 days, uploads 30) is Graph's unknown-object answer (100, subcode 33).
   */
  info(mediaId: string, query: { phone_number_id?: unknown }, origin: string): Record<string, unknown> {
    const phoneNumberId = query.phone_number_id;
    if (phoneNumberId !== undefined && phoneNumberId !== this.deps.phoneNumberId) {
      throw invalidParameter(`phone_number_id ${JSON.stringify(phoneNumberId)} is not the business phone number the media belongs to`);
    }
    const media = this.deps.store.get(mediaId);
    if (!media) throw unknownObject(mediaId, 'get');
    const url = this.#links.url(origin, media.id);
    return { messaging_product: 'whatsapp', url, mime_type: media.mimeType, sha256: media.sha256, file_size: media.fileSize, id: media.id };
  }

  /** A download URL's media; MediaLinkError (404) for a bad signature, an expired URL, or media that is gone. */
  download(query: MediaLinkQuery): StoredMedia {
    const mediaId = this.#links.verify(query);
    const media = this.deps.store.get(mediaId);
    if (!media) throw new MediaLinkError(`media ${mediaId} does not exist or has expired`);
    return media;
  }
}
