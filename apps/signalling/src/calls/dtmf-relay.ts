import { Injectable } from '@nestjs/common';
import type { DtmfEvent } from '@wagw/contracts';
import { MediaBusClient } from '../media/media-bus.client';
import { CrmEventBus } from '../events/crm-event-bus';
import { CallRuntime, type LiveCall } from './call-runtime';

const DEFAULT_DTMF_MS = 160;

/**
 * DTMF between the PBX and WhatsApp beyond what the media bridge maps itself (RFC 4733 both ways):
 * SIP INFO from the PBX (application/dtmf-relay, application/dtmf) becomes RFC 4733 toward WhatsApp, and a
 * digit from WhatsApp goes to a PBX leg without telephone-event as SIP INFO. Every digit is a CRM event.
 */
@Injectable()
export class DtmfRelay {
  constructor(
    private readonly media: MediaBusClient,
    private readonly events: CrmEventBus,
    private readonly runtime: CallRuntime,
  ) {}

  /** Per call, the digit relayed last: the next one starts after it. */
  readonly #chains = new Map<string, Promise<void>>();

  /**
   * Relays the digits of one call one after the other, in the order the INFOs came: two bus requests in
   * flight at once can reach the media app in either order (the Redis transport's first request on a reply
   * channel waits for its SUBSCRIBE, and a later one can overtake it), and a PBX sends INFOs back to back.
   */
  fromSipInfo(live: LiveCall, digit: string, durationMs?: number): Promise<void> {
    const previous = this.#chains.get(live.callId) ?? Promise.resolve();
    const next = previous.then(() => this.#relayInfo(live, digit, durationMs));
    this.#chains.set(live.callId, next);
    void next.finally(() => {
      if (this.#chains.get(live.callId) === next) this.#chains.delete(live.callId);
    });
    return next;
  }

  async #relayInfo(live: LiveCall, digit: string, durationMs?: number): Promise<void> {
    const ms = Math.min(Math.max(durationMs ?? DEFAULT_DTMF_MS, 40), 2000);
    try {
      await this.media.sendDtmf(live.callId, 'wa', digit, ms);
      this.events.publish('call.dtmf', { callId: live.callId, digit, direction: 'pbx-to-wa', durationMs: ms });
      live.log.info({ digit, durationMs: ms }, 'DTMF from SIP INFO relayed to WhatsApp (RFC 4733)');
    } catch (err) {
      live.log.warn({ err, digit }, 'DTMF from SIP INFO could not be relayed');
    }
  }

  /** A digit the media bridge saw completing (a person pressed it on either side). */
  async fromMedia(event: DtmfEvent): Promise<void> {
    this.events.publish('call.dtmf', { callId: event.callId, digit: event.digit, direction: event.direction, durationMs: event.durationMs });
    const live = this.runtime.get(event.callId);
    if (event.direction !== 'wa-to-pbx' || !live || live.pbxDtmfPt !== undefined || !live.pbxLeg?.sendDtmfInfo) return;
    try {
      await live.pbxLeg.sendDtmfInfo(event.digit, event.durationMs);
      live.log.info({ digit: event.digit }, 'DTMF from WhatsApp sent to the PBX as SIP INFO (no telephone-event negotiated)');
    } catch (err) {
      live.log.warn({ err, digit: event.digit }, 'DTMF SIP INFO toward the PBX failed');
    }
  }
}
