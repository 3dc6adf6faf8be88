import type { RTCPeerConnection } from 'werift';
import { endDtlsRetransmissions } from './peer-config';

/** A peer connection with one transceiver whose DTLS context is `context` (the fields the function reads). */
function pcWith(context: { flight: number } | undefined): RTCPeerConnection {
  return { getTransceivers: () => [{ dtlsTransport: { dtls: context ? { dtls: context } : undefined } }] } as unknown as RTCPeerConnection;
}

describe('endDtlsRetransmissions', () => {
  it('puts the handshake past every flight, and a flight starting afterwards cannot write its number back', () => {
    const context = { flight: 1 };
    endDtlsRetransmissions(pcWith(context));
    expect(context.flight).toBeGreaterThan(6);
    context.flight = 1; // what werift's first client flight does when it runs a few ticks after the close
    expect(context.flight).toBeGreaterThan(6); // so its retransmission loop ends at its first timer
  });

  it('leaves a transport without DTLS alone', () => {
    expect(() => endDtlsRetransmissions(pcWith(undefined))).not.toThrow();
  });
});
