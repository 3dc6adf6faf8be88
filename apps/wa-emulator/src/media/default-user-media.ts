import type { AppConfig } from '@wagw/config';
import type { Logger } from '@wagw/logging';
import type { UserMediaFactory, UserMediaSession } from '@wagw/media-bridge';

/**
 * The one place that chooses the simulated users' media when bootstrapEmulator() gets no factory.
 * PLACEHOLDER: @wagw/media-bridge does not export SimulatedUserMediaFactory yet; until it does, a call that
 * needs user media fails with a clear error. Replace the body with
 * `new SimulatedUserMediaFactory({ iceAddress: config.emulator.userIceAddress, logger })`.
 */
export function createDefaultUserMediaFactory(config: Readonly<AppConfig>, logger: Logger): UserMediaFactory {
  logger.warn({ iceAddress: config.emulator.userIceAddress }, 'SimulatedUserMediaFactory is not available: simulated users have no media');
  return {
    create(): UserMediaSession {
      throw new Error('no UserMediaFactory: @wagw/media-bridge does not export SimulatedUserMediaFactory; pass overrides.userMediaFactory');
    },
  };
}
