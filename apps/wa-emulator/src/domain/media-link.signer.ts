import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from './clock';
import { MediaLinkError } from './emulator.errors';

/**
 * Download URLs of stored media, shaped like Meta's lookaside links
 * (`https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=<MEDIA_ID>&ext=<unix s expiry>&hash=<signature>`)
 * but on the emulator's own HTTP server. Cloud API "Media": the URL is valid for 5 minutes, and downloading it
 * needs the access token (checked by the HTTP layer, as for Graph requests). `hash` is an HMAC-SHA256 of `mid`
 * and `ext` under a secret of this process, so a link cannot be forged or extended, and dies with the process.
 */

export const MEDIA_DOWNLOAD_PATH = '/whatsapp_business/attachments/';
export const MEDIA_URL_TTL_MS = 5 * 60_000;

/** The query of a download URL as it arrived (any value may be missing, repeated or malformed). */
export interface MediaLinkQuery {
  mid?: unknown;
  ext?: unknown;
  hash?: unknown;
}

export class MediaLinkSigner {
  readonly #secret: Buffer;

  constructor(
    private readonly clock: Clock,
    secret: Buffer = randomBytes(32),
    private readonly ttlMs = MEDIA_URL_TTL_MS,
  ) {
    this.#secret = Buffer.from(secret);
  }

  /** A download URL for `mediaId` on `origin` (`http://host:port`, the host the Graph request came to). */
  url(origin: string, mediaId: string): string {
    const ext = String(Math.floor((this.clock.now() + this.ttlMs) / 1000));
    const query = new URLSearchParams({ mid: mediaId, ext, hash: this.#sign(mediaId, ext) });
    return `${origin.replace(/\/+$/, '')}${MEDIA_DOWNLOAD_PATH}?${query.toString()}`;
  }

  /** The media id a download URL names; MediaLinkError (404) on a missing or bad signature, or once expired. */
  verify(query: MediaLinkQuery): string {
    const { mid, ext, hash } = query;
    if (typeof mid !== 'string' || !/^\d{1,32}$/.test(mid) || typeof ext !== 'string' || !/^\d{1,12}$/.test(ext) || typeof hash !== 'string') {
      throw new MediaLinkError('not a media download URL: mid, ext and hash are required');
    }
    const expected = Buffer.from(this.#sign(mid, ext));
    const given = Buffer.from(hash);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new MediaLinkError('URL signature mismatch');
    if (this.clock.now() >= Number(ext) * 1000) throw new MediaLinkError('URL signature expired');
    return mid;
  }

  #sign(mid: string, ext: string): string {
    return createHmac('sha256', this.#secret).update(`${mid}:${ext}`).digest('base64url');
  }
}
