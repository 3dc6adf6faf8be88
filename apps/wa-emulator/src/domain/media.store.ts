import { createHash } from 'node:crypto';
import { type Clock, DAY_MS } from './clock';
import { newMediaId } from './ids';
import type { MediaUseCase } from './media-upload.flow';

/** One media object the emulated Cloud API serves (GET /<MEDIA_ID> and its download URL). */
export interface StoredMedia {
  readonly id: string;
  readonly bytes: Buffer;
  readonly mimeType: string;
  /** Hex SHA-256 of `bytes`, as webhooks and GET /<MEDIA_ID> write it. */
  readonly sha256: string;
  readonly fileSize: number;
  /** Emulator clock, epoch ms. */
  readonly createdAt: number;
  /** When the id stops being served, emulator clock epoch ms (its own lifetime: uploads 30 days, webhook media 7). */
  readonly expiresAt: number;
  /** The `use_case` the business uploaded it with (POST /<PHONE_NUMBER_ID>/media); none for the users' recordings. */
  readonly useCase?: MediaUseCase;
}

/** Per-item options of `put`. */
export interface MediaPutOptions {
  /** Lifetime of this item; default the store's `ttlMs`. */
  ttlMs?: number;
  useCase?: MediaUseCase;
}

export interface MediaStoreLimits {
  maxItems: number;
  maxBytes: number;
  /** How long a media id lives after it was created (emulator clock), unless `put` gives it its own lifetime. */
  ttlMs: number;
}

/**
 * Meta's Cloud API "Media" page: "Media IDs in webhooks expire after 7 days" (the default lifetime; uploads pass
 * their own 30 days). The item and byte caps are the
 * emulator's own: it is a test tool and must not grow without bound over a long demo or load run.
 */
export const MEDIA_STORE_LIMITS: Readonly<MediaStoreLimits> = { maxItems: 500, maxBytes: 64 * 1024 * 1024, ttlMs: 7 * DAY_MS };

/**
 * The media the simulated users produced (their voicemail recordings) and the business uploaded, by media id. An
 * id is served until it expires on the emulator clock (its lifetime after it was created: `ttlMs`, or the one
 * `put` gave it; expired items are dropped when seen). The store
 * is bounded: when a new item would exceed `maxItems` or `maxBytes`, the oldest items are dropped first
 * (insertion order, which is creation order), so a recent voicemail is always served.
 */
export class MediaStore {
  readonly #items = new Map<string, StoredMedia>();
  readonly #limits: Readonly<MediaStoreLimits>;
  #totalBytes = 0;

  constructor(
    private readonly clock: Clock,
    limits: Partial<MediaStoreLimits> = {},
  ) {
    this.#limits = { ...MEDIA_STORE_LIMITS, ...limits };
  }

  /** Stores `bytes` under a new media id; a single item larger than `maxBytes` is a bug of the caller. */
  put(bytes: Buffer, mimeType: string, options: MediaPutOptions = {}): StoredMedia {
    if (bytes.length > this.#limits.maxBytes) throw new RangeError(`media of ${bytes.length} bytes is over the store's ${this.#limits.maxBytes}-byte limit`);
    this.#dropExpired();
    let id = newMediaId();
    while (this.#items.has(id)) id = newMediaId();
    const createdAt = this.clock.now();
    const media: StoredMedia = {
      id,
      bytes,
      mimeType,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      fileSize: bytes.length,
      createdAt,
      expiresAt: createdAt + (options.ttlMs ?? this.#limits.ttlMs),
      ...(options.useCase !== undefined ? { useCase: options.useCase } : {}),
    };
    this.#items.set(id, media);
    this.#totalBytes += bytes.length;
    this.#dropOldestBeyondLimits();
    return media;
  }

  /** The media under `id`, or undefined when unknown, dropped, or expired. */
  get(id: string): StoredMedia | undefined {
    const media = this.#items.get(id);
    if (!media) return undefined;
    if (this.#expired(media)) {
      this.#delete(media);
      return undefined;
    }
    return media;
  }

  get size(): number {
    return this.#items.size;
  }

  get totalBytes(): number {
    return this.#totalBytes;
  }

  clear(): void {
    this.#items.clear();
    this.#totalBytes = 0;
  }

  #expired(media: StoredMedia): boolean {
    return this.clock.now() >= media.expiresAt;
  }

  #dropExpired(): void {
    for (const media of [...this.#items.values()]) if (this.#expired(media)) this.#delete(media);
  }

  #dropOldestBeyondLimits(): void {
    for (const oldest of this.#items.values()) {
      if (this.#items.size <= this.#limits.maxItems && this.#totalBytes <= this.#limits.maxBytes) return;
      this.#delete(oldest);
    }
  }

  #delete(media: StoredMedia): void {
    if (this.#items.delete(media.id)) this.#totalBytes -= media.fileSize;
  }
}
