import type { Logger } from '@wagw/logging';
import { SipError, type RemoteSdpHandler } from '@wagw/sip';
import type { MediaBusClient } from '../media/media-bus.client';

/** Warning text (RFC 3261 §20.43) without the quotes it sits in. */
function warningText(message: string): string {
  return message.replace(/"/g, "'").slice(0, 200);
}

/**
 * Mid-call SDP from the PBX (re-INVITE, UPDATE, or the answer in an ACK) goes to the call's PBX media leg:
 * a new address or port, hold and resume (RFC 3264 §8). An offer the media app refuses (another codec,
 * renumbered payload types, no plain RTP audio) is answered 488 with a Warning that says why; the media
 * app not answering is a 500. Either way the call goes on as it was.
 */
export function pbxSdpHandler(media: MediaBusClient, callId: string, pbxLegId: string, log: Logger): RemoteSdpHandler {
  return {
    offer: async (sdp) => {
      try {
        const reply = await media.updatePbxMedia(callId, pbxLegId, 'offer', sdp);
        if (reply.sdp === undefined) throw new SipError(500, 'Server Internal Error');
        log.info({ sending: reply.sending }, 'mid-call SDP offer from the PBX applied');
        return reply.sdp;
      } catch (err) {
        if ((err as { code?: unknown } | null)?.code === 'SDP_NOT_ACCEPTABLE') {
          throw new SipError(488, 'Not Acceptable Here', { warning: `305 wagw "${warningText((err as Error).message)}"` });
        }
        throw err;
      }
    },
    answer: async (sdp) => {
      const reply = await media.updatePbxMedia(callId, pbxLegId, 'answer', sdp);
      log.info({ sending: reply.sending }, 'mid-call SDP answer from the PBX applied');
    },
  };
}
