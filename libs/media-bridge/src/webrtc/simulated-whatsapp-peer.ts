import { readFile } from 'node:fs/promises';
import { RTCPeerConnection, type RTCRtpTransceiver } from 'werift';
import type { Logger } from '@wagw/logging';
import type { FrameTicker } from '../bridge/frame-clock';
import type { RtpPacketIn, RtpPacketOut } from '../bridge/media-port.types';
import { OutboundAudioStream } from '../audio/outbound-audio-stream';
import { parseWav, resampleLinear } from '../audio/wav';
import { InboundMedia } from './inbound-media';
import { endDtlsRetransmissions, iceDtlsStates, META_OPUS_FMTP, peerConfig, useHostCandidatesOnly } from './peer-config';
import { RtpStreamWriter } from './rtp-stream-writer';
import { SrtpFastPath } from './srtp/srtp-fast-path';
import { filterCandidates, sessionLevelIceLite, singleSsrcLine, withDtlsSetup } from './sdp-rewrite';
import { SdpRejectedError, WaLegFailedError, WaLegStateError } from './webrtc.errors';
import type { UserMediaFactory, UserMediaSession, UserMediaStats } from './user-media.types';

/** The CNAME of the one SSRC in Meta's SDPs. */
export const WHATSAPP_CNAME = 'WhatsAppAudioStream1';

export interface SimulatedWhatsAppPeerOptions {
  /** The one IPv4 address the peer binds to and advertises (a single host candidate). */
  iceAddress: string;
  logger: Logger;
  /** DTLS role written in answers to a business offer: Meta's sample answers `active` (default). */
  answerSetup?: 'active' | 'passive';
  /** Seconds of received audio kept decoded for recording() (default 60). */
  recordSeconds?: number;
  clock?: FrameTicker;
  /** Carry RTP on the SRTP fast path once connected (default false: werift's own path, an independent check of the gateway's). */
  fastSrtp?: boolean;
  /**
   * ICE-lite like Meta's relay (default true). false makes the peer a full ICE agent, controlling as the
   * offerer: for load tests against peers that mishandle an ICE-lite offerer (rtpengine 10.5 takes the
   * controlled role when it answers one, and then neither side nominates).
   */
  iceLite?: boolean;
}

/**
 * A stand-in for WhatsApp's media relay as the business sees it (reference §6.1): ICE-lite and always
 * controlled, DTLS server in its offers (`a=setup:actpass`), Opus 48 kHz / 20 ms on PT 111 with Meta's
 * fmtp, telephone-event/8000 on PT 126, ONE `a=ssrc` with cname WhatsAppAudioStream1, one IPv4 host
 * candidate. It sends media as soon as DTLS is up (the user's phone is not gated).
 */
export class SimulatedWhatsAppPeer implements UserMediaSession {
  readonly #opts: SimulatedWhatsAppPeerOptions;
  readonly #logger: Logger;
  readonly #pc: RTCPeerConnection;
  readonly #inbound: InboundMedia;
  #transceiver: RTCRtpTransceiver | undefined;
  #writer: RtpStreamWriter | undefined;
  #fast: SrtpFastPath | null = null;
  #stream: OutboundAudioStream | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: SimulatedWhatsAppPeerOptions) {
    this.#opts = options;
    this.#logger = options.logger.child({ simulatedPeer: true });
    this.#inbound = new InboundMedia({ logger: this.#logger, recordSeconds: options.recordSeconds ?? 60 });
    this.#pc = new RTCPeerConnection(peerConfig({ iceLite: options.iceLite ?? true, opusFmtp: META_OPUS_FMTP, iceAddress: options.iceAddress }));
    this.#pc.connectionStateChange.subscribe((s) => {
      this.#logger.debug({ state: s }, 'simulated WhatsApp peer connection state');
      if (s === 'connected') {
        if (options.fastSrtp && this.#transceiver && !this.#fast) {
          this.#fast = SrtpFastPath.attach(this.#transceiver.dtlsTransport, { onRtp: (p) => this.#inbound.handleFast(p), onRtcp: (r) => this.#inbound.handleRtcpBytes(r) }, this.#logger);
          this.#writer?.useFastPath(this.#fast, (now) => this.#inbound.receptionReport(now));
        }
        this.#writer?.startRtcp();
      }
    });
  }

  /** The SSRC of everything the peer sends (0 before an SDP exists). */
  get ssrc(): number {
    return this.#writer?.ssrc ?? 0;
  }

  /** DTLS role the peer ended up with ('server' for its offers; 'client' when answering `active`). */
  get dtlsRole(): string | undefined {
    return this.#transceiver?.dtlsTransport.role;
  }

  /** Received (decrypted) RTP, as the user's phone sees it; returns the unsubscribe function. */
  onRtp(listener: (packet: RtpPacketIn) => void): () => void {
    return this.#inbound.onRtp(listener);
  }

  async createOffer(): Promise<string> {
    this.#assertOpen('createOffer');
    this.#attach(this.#pc.addTransceiver('audio', { direction: 'sendrecv' }));
    useHostCandidatesOnly(this.#pc);
    await this.#pc.setLocalDescription(await this.#pc.createOffer());
    return this.#shape();
  }

  async applyAnswer(sdp: string): Promise<void> {
    this.#assertOpen('applyAnswer');
    await this.#setRemote('answer', sdp);
  }

  async answerOffer(sdp: string): Promise<string> {
    this.#assertOpen('answerOffer');
    await this.#setRemote('offer', sdp);
    const transceiver = this.#pc.getTransceivers().find((t) => t.kind === 'audio');
    if (!transceiver) throw new SdpRejectedError(['no audio m-line'], 'remote');
    transceiver.setDirection('sendrecv');
    this.#attach(transceiver);
    useHostCandidatesOnly(this.#pc);
    const answer = await this.#pc.createAnswer();
    const setup = this.#opts.answerSetup ?? 'active';
    await this.#pc.setLocalDescription({ type: 'answer', sdp: withDtlsSetup(answer.sdp, setup) });
    return this.#shape();
  }

  connected(timeoutMs: number): Promise<void> {
    if (this.#pc.connectionState === 'connected') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => done(new WaLegFailedError(`simulated peer not connected within ${timeoutMs} ms (connection ${this.#pc.connectionState}, ${iceDtlsStates(this.#pc, this.#transceiver)})`)), timeoutMs);
      const sub = this.#pc.connectionStateChange.subscribe((s) => {
        if (s === 'connected') done();
        else if (s === 'failed' || s === 'closed') done(new WaLegFailedError(`simulated peer ${s}`));
      });
      const done = (err?: Error): void => {
        clearTimeout(timer);
        sub.unSubscribe();
        if (err) reject(err);
        else resolve();
      };
    });
  }

  /**
   * Sends one RTP packet as the user's phone, bypassing the player (load generators, custom payloads): the
   * peer's one SSRC and its own sequence numbers. Returns false (nothing sent) before DTLS-SRTP is up.
   */
  sendRtp(packet: RtpPacketOut): boolean {
    return this.#writer?.write(packet) ?? false;
  }

  playTone(frequencyHz: number): void {
    this.#outbound().playTone(frequencyHz);
  }

  /** Loads a 16-bit PCM WAV (any rate, mixed to mono, resampled to 48 kHz) and starts it; resolves once started. */
  async playWav(path: string): Promise<void> {
    const wav = parseWav(await readFile(path));
    const samples = resampleLinear(wav.samples, wav.sampleRate, 48000);
    void this.#outbound().playPcm(samples);
  }

  /** Opus silence frames (keeps RTP flowing, as a muted phone does). */
  playSilence(): void {
    this.#outbound().playSilence();
  }

  stopSending(): void {
    this.#stream?.stopSending();
  }

  /**
   * No RTP and no RTCP from now on (a muted phone still sends RTCP; one that lost its network sends nothing):
   * our stream and reports stop, and werift's own receiver reports are dropped at the ICE connection. STUN
   * still answers, so the gateway's ICE stays connected: only its media timeout can tell.
   */
  cutNetwork(): void {
    this.#stream?.stopSending();
    this.#writer?.close();
    const connection = this.#transceiver?.dtlsTransport.iceTransport.connection as { send: (data: Buffer) => Promise<void> } | undefined;
    if (connection) connection.send = async () => undefined;
  }

  /** RFC 4733 digits on PT 126 in the audio stream's timestamp/sequence space; resolves when sent. */
  sendDtmf(digits: string, durationMs = 160): Promise<void> {
    return this.#outbound().sendDtmf(digits, durationMs);
  }

  stats(): UserMediaStats {
    const inbound = this.#inbound.stats();
    return {
      packetsReceived: inbound.packetsReceived,
      rtcpReceived: inbound.rtcpReceived,
      packetsSent: this.#writer?.stats().packetsSent ?? 0,
      ...(inbound.firstPacketReceivedAt !== undefined ? { firstPacketReceivedAt: inbound.firstPacketReceivedAt } : {}),
      ...(inbound.lastPacketReceivedAt !== undefined ? { lastPacketReceivedAt: inbound.lastPacketReceivedAt } : {}),
      dtmfReceived: inbound.dtmfReceived,
      connectionState: this.#pc.connectionState,
    };
  }

  recording(): Int16Array {
    return this.#inbound.recorder?.samples() ?? new Int16Array(0);
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#stream?.close();
      this.#writer?.close();
      this.#writer?.useFastPath(null);
      this.#fast?.detach();
      try {
        endDtlsRetransmissions(this.#pc);
        await this.#pc.close();
      } catch (err) {
        this.#logger.debug({ err }, 'simulated peer close failed');
      }
    })();
    return this.#closing;
  }

  #assertOpen(operation: string): void {
    if (this.#closing) throw new WaLegStateError(operation, 'closed');
  }

  #attach(transceiver: RTCRtpTransceiver): void {
    this.#transceiver = transceiver;
    transceiver.dtlsTransport.onRtp.subscribe((rtp) => this.#inbound.handle(rtp));
    transceiver.dtlsTransport.onRtcp.subscribe((rtcp) => this.#inbound.handleRtcp(rtcp));
    this.#writer = new RtpStreamWriter({
      dtlsTransport: transceiver.dtlsTransport,
      ssrc: transceiver.sender.ssrc,
      cname: WHATSAPP_CNAME,
      clockRate: 48000,
      logger: this.#logger,
    });
  }

  async #setRemote(type: 'offer' | 'answer', sdp: string): Promise<void> {
    try {
      await this.#pc.setRemoteDescription({ type, sdp });
    } catch (err) {
      throw new SdpRejectedError([(err as Error).message], 'remote');
    }
  }

  /** werift's SDP made to look like the relay's: one host candidate, one a=ssrc, session-level ice-lite (unless full ICE). */
  #shape(): string {
    const local = this.#pc.localDescription?.sdp;
    if (!local) throw new Error('werift produced no local description');
    const shaped = singleSsrcLine(filterCandidates(local, this.#opts.iceAddress), this.ssrc, WHATSAPP_CNAME);
    return (this.#opts.iceLite ?? true) ? sessionLevelIceLite(shaped) : shaped;
  }

  #outbound(): OutboundAudioStream {
    this.#assertOpen('send');
    this.#stream ??= new OutboundAudioStream({
      send: (p) => void this.#writer?.write(p),
      logger: this.#logger,
      ...(this.#opts.clock ? { clock: this.#opts.clock } : {}),
    });
    return this.#stream;
  }
}

/** Builds simulated WhatsApp users' media for the emulator and tests. */
export class SimulatedUserMediaFactory implements UserMediaFactory {
  readonly #iceAddress: string;
  readonly #logger: Logger;

  constructor(options: { iceAddress: string; logger: Logger }) {
    this.#iceAddress = options.iceAddress;
    this.#logger = options.logger;
  }

  create(options: { waId: string; callId: string }): UserMediaSession {
    return new SimulatedWhatsAppPeer({ iceAddress: this.#iceAddress, logger: this.#logger.child({ waId: options.waId, callId: options.callId }) });
  }
}
