import type { AppConfig } from '@wagw/config';
import type { Logger } from '@wagw/logging';
import { WaLeg, type FrameTicker, type WaLegOptions, type WaLegWithSdp } from '@wagw/media-bridge';

/** Builds WhatsApp legs; the registry depends on this port, so tests can count or fake legs. */
export interface WaLegFactory {
  answerOffer(offerSdp: string, logger: Logger): Promise<WaLegWithSdp>;
  createOffer(logger: Logger): Promise<WaLegWithSdp>;
}

/** Seconds of received audio each leg keeps decoded for analyseWaTone (the foundation demo's check). */
export const RECORD_SECONDS = 10;

/** Legs configured from `media.*`: empty strings in config mean "not set". */
export class ConfiguredWaLegFactory implements WaLegFactory {
  readonly #base: Omit<WaLegOptions, 'logger'>;

  constructor(media: Readonly<AppConfig['media']>, clock: FrameTicker) {
    this.#base = {
      connectTimeoutMs: media.iceConnectTimeoutMs,
      recordSeconds: RECORD_SECONDS,
      clock,
      ...(media.iceInterfaceAddress ? { iceAddress: media.iceInterfaceAddress } : {}),
      ...(media.publicAddress ? { publicAddress: media.publicAddress } : {}),
      ...(media.stunServer ? { stunServer: media.stunServer } : {}),
    };
  }

  answerOffer(offerSdp: string, logger: Logger): Promise<WaLegWithSdp> {
    return WaLeg.answerOffer(offerSdp, { ...this.#base, logger });
  }

  createOffer(logger: Logger): Promise<WaLegWithSdp> {
    return WaLeg.createOffer({ ...this.#base, logger });
  }
}
