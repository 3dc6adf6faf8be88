import type { Logger } from '@wagw/logging';
import type { UserMediaFactory, UserMediaSession } from '@wagw/media-bridge';
import type { BrowserMediaHub } from './browser-media.hub';
import { BrowserRelayedUserMedia } from './browser-relayed-user-media';
import { ControlError } from '../domain/emulator.errors';

export const USER_MEDIA_MODES = ['simulated', 'browser', 'sdp-only'] as const;
/**
 * `simulated`: the configured factory (werift by default); `browser`: the user's phone page; `sdp-only`:
 * relay-shaped SDP without a peer, for load runs (SdpOnlyUserMedia).
 */
export type UserMediaMode = (typeof USER_MEDIA_MODES)[number];

export interface SwitchingUserMediaFactoryOptions {
  /** What serves users in `simulated` mode (the bootstrap's default or override). */
  simulated: UserMediaFactory;
  hub: BrowserMediaHub;
  /** What serves users in `sdp-only` mode; without it that mode is refused. */
  sdpOnly?: UserMediaFactory;
  logger: Logger;
}

/**
 * Picks each new call's user media by the user's media mode (PUT /emulator/users/:waId/media-mode). The
 * mode is read when a call begins, so switching affects the next call, never the current one.
 */
export class SwitchingUserMediaFactory implements UserMediaFactory {
  readonly #opts: SwitchingUserMediaFactoryOptions;
  readonly #modes = new Map<string, UserMediaMode>();

  constructor(options: SwitchingUserMediaFactoryOptions) {
    this.#opts = options;
  }

  mode(waId: string): UserMediaMode {
    return this.#modes.get(waId) ?? 'simulated';
  }

  setMode(waId: string, mode: UserMediaMode): UserMediaMode {
    if (mode === 'sdp-only' && !this.#opts.sdpOnly) throw new ControlError('invalid', 'media mode sdp-only is not available in this emulator');
    if (mode === 'simulated') this.#modes.delete(waId);
    else this.#modes.set(waId, mode);
    this.#opts.logger.info({ waId, mode }, 'user media mode set');
    return mode;
  }

  create(options: { waId: string; callId: string }): UserMediaSession {
    const mode = this.mode(options.waId);
    if (mode === 'sdp-only' && this.#opts.sdpOnly) return this.#opts.sdpOnly.create(options);
    if (mode !== 'browser') return this.#opts.simulated.create(options);
    return new BrowserRelayedUserMedia({
      ...options,
      hub: this.#opts.hub,
      logger: this.#opts.logger.child({ waId: options.waId, waCallId: options.callId, media: 'browser' }),
    });
  }
}
