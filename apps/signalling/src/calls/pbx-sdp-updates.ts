import { Injectable } from '@nestjs/common';
import { SipError, type RemoteSdpHandler } from '@wagw/sip';
import { CrmEventBus } from '../events/crm-event-bus';
import { MediaBusClient } from '../media/media-bus.client';
import type { LiveCall } from './call-runtime';

/** Warning text (RFC 3261 §20.43) without the quotes it sits in. */
function warningText(message: string): string {
  return message.replace(/"/g, "'").slice(0, 200);
}

/**
 * Mid-call SDP from the PBX (re-INVITE, UPDATE, or the answer in an ACK) goes to the call's PBX media leg:
 * a new address or port, hold and resume (RFC 3264 §8). An offer the media app refuses (another codec,
 * renumbered payload types, no plain RTP audio) is answered 488 with a Warning that says why; the media
 * app not answering is a 500. Either way the call goes on as it was. When the PBX holds or resumes the call,
 * the CRM hears `call.held` / `call.resumed`.
 */
@Injectable()
export class PbxSdpUpdates {
  constructor(
    private readonly media: MediaBusClient,
    private readonly events: CrmEventBus,
  ) {}

  /** The call moved to a new PBX leg (a transfer): a hold of the old one is over, and the CRM hears so. */
  legReplaced(live: LiveCall, waId?: string): void {
    if (!live.pbxOnHold) return;
    live.pbxOnHold = false;
    this.events.publish('call.resumed', { callId: live.callId, ...(waId ? { waId } : {}) });
  }

  /** The handler for the SIP leg of `live` whose media is PBX leg `pbxLegId`. */
  handlerFor(live: LiveCall, pbxLegId: string, waId?: string): RemoteSdpHandler {
    const applied = (kind: 'offer' | 'answer', sending: boolean): void => {
      live.log.info({ sending }, `mid-call SDP ${kind} from the PBX applied`);
      if (live.pbxOnHold === !sending) return;
      live.pbxOnHold = !sending;
      this.events.publish(sending ? 'call.resumed' : 'call.held', { callId: live.callId, ...(waId ? { waId } : {}) });
    };
    return {
      offer: async (sdp) => {
        try {
          const reply = await this.media.updatePbxMedia(live.callId, pbxLegId, 'offer', sdp);
          if (reply.sdp === undefined) throw new SipError(500, 'Server Internal Error');
          applied('offer', reply.sending);
          return reply.sdp;
        } catch (err) {
          if ((err as { code?: unknown } | null)?.code === 'SDP_NOT_ACCEPTABLE') {
            throw new SipError(488, 'Not Acceptable Here', { warning: `305 wagw "${warningText((err as Error).message)}"` });
          }
          throw err;
        }
      },
      answer: async (sdp) => {
        const reply = await this.media.updatePbxMedia(live.callId, pbxLegId, 'answer', sdp);
        applied('answer', reply.sending);
      },
    };
  }
}
