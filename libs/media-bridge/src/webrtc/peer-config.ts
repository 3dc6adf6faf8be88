import { RTCRtpCodecParameters, type RTCPeerConnection, type RTCPeerConnectionConfig, type RTCRtpTransceiver } from 'werift';
import { OPUS_PAYLOAD_TYPE, TELEPHONE_EVENT_PAYLOAD_TYPE } from '../audio/outbound-audio-stream';
import { memoizeCertificateFingerprints } from './certificate-fingerprints';
import { reuseDtlsIdentity } from './dtls-identity';
import { ignoreRepeatedHelloVerifyRequests } from './dtls-retransmission';
import { configureIceCheckTiming } from './ice-timing';
import { useNativeKeyExchange } from './native-key-exchange';

/** Meta's Opus fmtp (SIP-2512 samples, reference §6.1). */
export const META_OPUS_FMTP = 'maxaveragebitrate=20000;maxplaybackrate=16000;minptime=20;sprop-maxcapturerate=16000;useinbandfec=1';
/** What the gateway's leg advertises: 20 ms frames, in-band FEC. */
export const GATEWAY_OPUS_FMTP = 'minptime=20;useinbandfec=1';

/** Opus 48 kHz on PT 111 and telephone-event/8000 on PT 126, nothing else (reference §6.1). */
export function whatsappAudioCodecs(opusFmtp: string): RTCRtpCodecParameters[] {
  return [
    new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2, payloadType: OPUS_PAYLOAD_TYPE, parameters: opusFmtp }),
    new RTCRtpCodecParameters({ mimeType: 'audio/telephone-event', clockRate: 8000, channels: 1, payloadType: TELEPHONE_EVENT_PAYLOAD_TYPE }),
  ];
}

export interface IcePeerOptions {
  /** Gather (bind and advertise) only this IPv4 address: no other interface, no IPv6. */
  iceAddress?: string;
  /** host:port of a STUN server for a server-reflexive candidate; none: host candidates only. */
  stunServer?: string;
  iceLite: boolean;
  opusFmtp: string;
}

/**
 * werift options for a WhatsApp audio peer. With `iceAddress`, werift's host-address discovery is switched
 * off (`iceUseIpv4/6: false`) and the one address comes in through `iceAdditionalHostAddresses`, with the
 * socket bound to it via `iceInterfaceAddresses`: the only way to get exactly one host candidate, since
 * werift ignores `iceInterfaceAddresses` for filtering when the address is not a non-internal interface
 * (127.0.0.1) and then advertises every interface.
 */
export function peerConfig(options: IcePeerOptions): RTCPeerConnectionConfig {
  configureIceCheckTiming();
  ignoreRepeatedHelloVerifyRequests();
  memoizeCertificateFingerprints();
  useNativeKeyExchange();
  reuseDtlsIdentity();
  const { iceAddress, stunServer } = options;
  return {
    iceLite: options.iceLite,
    codecs: { audio: whatsappAudioCodecs(options.opusFmtp), video: [] },
    headerExtensions: { audio: [], video: [] },
    iceServers: stunServer ? [{ urls: `stun:${stunServer}` }] : [],
    bundlePolicy: 'max-bundle',
    iceUseTcp: false,
    ...(iceAddress
      ? { iceUseIpv4: false, iceUseIpv6: false, iceAdditionalHostAddresses: [iceAddress], iceInterfaceAddresses: { udp4: iceAddress } }
      : { iceUseIpv4: true, iceUseIpv6: true }),
  };
}

/**
 * werift's ICE `Connection` falls back to stun.l.google.com:19302 whenever no STUN server is configured
 * (`iceServers: []` included) and waits up to 5 s for the server-reflexive candidate inside
 * setLocalDescription; with no DNS that is a 5 s stall before every call connects. Clearing the
 * connection's `stunServer` before gathering makes it gather host candidates only. Call it after the
 * transports exist (after addTransceiver / setRemoteDescription) and before setLocalDescription.
 */
export function useHostCandidatesOnly(pc: RTCPeerConnection): void {
  for (const t of pc.getTransceivers()) {
    t.dtlsTransport.iceTransport.connection.stunServer = undefined;
  }
}

/** Beyond any DTLS 1.2 flight number (RFC 6347 §4.2.4 has six). */
const HANDSHAKE_OVER = Number.MAX_SAFE_INTEGER;

/**
 * werift's DTLS handshake retransmission loop (`Flight.transmit`) is not cancelled by
 * `RTCPeerConnection.close()`: a flight still waiting for its answer keeps its timer (and retransmits into
 * the closed socket) for up to ~27 s. The loop ends at its next timer once the context's flight number
 * has passed the one it waits for, so mark the handshake over when closing mid-handshake.
 */
export function endDtlsRetransmissions(pc: RTCPeerConnection): void {
  for (const t of pc.getTransceivers()) {
    const context = t.dtlsTransport.dtls?.dtls;
    // pinned, not just set: a flight that starts after the close (the client's first one runs a few ticks
    // after the transport starts) would otherwise write its own number back and retransmit for ~27 s
    if (context) Object.defineProperty(context, 'flight', { configurable: true, get: () => HANDSHAKE_OVER, set: () => undefined });
  }
}

/** Where a connection that has not come up stands (ICE, then DTLS and its role): for failure reasons. */
export function iceDtlsStates(pc: RTCPeerConnection, transceiver: RTCRtpTransceiver | undefined): string {
  const dtls = transceiver?.dtlsTransport;
  return `ICE ${pc.iceConnectionState}, DTLS ${dtls?.state ?? 'none'} as ${dtls?.role ?? '-'}`;
}
