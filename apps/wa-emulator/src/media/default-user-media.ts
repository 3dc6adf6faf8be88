import type { AppConfig } from '@wagw/config';
import type { Logger } from '@wagw/logging';
import { SimulatedUserMediaFactory, type UserMediaFactory } from '@wagw/media-bridge';

/**
 * The one place that chooses the simulated users' media when bootstrapEmulator() gets no factory: werift
 * peers that behave as WhatsApp's relay (ICE-lite, DTLS server in offers, Opus/48000 PT 111, telephone-event
 * PT 126, one SSRC), bound to and advertising `emulator.userIceAddress`.
 */
export function createDefaultUserMediaFactory(config: Readonly<AppConfig>, logger: Logger): UserMediaFactory {
  return new SimulatedUserMediaFactory({ iceAddress: config.emulator.userIceAddress, logger });
}
