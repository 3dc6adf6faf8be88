import { RTCPeerConnection, type RTCRtpTransceiver } from 'werift';
import type { Logger } from '@wagw/logging';
import type { MediaPort, RtpPacketIn, RtpPacketOut } from '../bridge/media-port.types';
import { SafeEmitter } from '../bridge/safe-emitter';
import { OutboundAudioStream } from '../audio/outbound-audio-stream';
import type { ToneReport } from '../audio/tone';
import { InboundMedia } from './inbound-media';
import { endDtlsRetransmissions, GATEWAY_OPUS_FMTP, iceDtlsStates, peerConfig, useHostCandidatesOnly } from './peer-config';
import { RtpStreamWriter } from './rtp-stream-writer';
import { SrtpFastPath, type SrtpFastPathStats } from './srtp/srtp-fast-path';
import { advertiseAddress, dtlsSetup, filterCandidates, hasFingerprint, whatsappSdpProblems } from './sdp-rewrite';
import { SdpRejectedError, WaLegFailedError, WaLegStateError } from './webrtc.errors';
import type { WaLegEvents, WaLegOptions, WaLegRole, WaLegState, WaLegStats } from './wa-leg.types';

export interface WaLegWithSdp {
  leg: WaLeg;
  /** The SDP to send to WhatsApp (answer for answerOffer, offer for createOffer), CRLF line endings. */
  sdp: string;
}

/**
 * The gateway's WebRTC leg toward WhatsApp (Graph calling), on werift, following Meta's rules (reference
 * §6.1, §8 pitfalls 2-3): a FULL ICE agent that is CONTROLLING against Meta's ICE-lite relay (werift then
 * uses regular nomination: a check, then a second one with USE-CANDIDATE), DTLS client when answering
 * (`a=setup:active`), Opus/48000 PT 111 + telephone-event/8000 PT 126, rtcp-mux and BUNDLE, ONE SSRC for
 * everything it sends, RTCP sender reports while media flows. Nothing is sent before `startMedia()`
 * (Meta: no media before accept returns 200). Received packets are SRTP-decrypted RTP, DTMF included.
 */
export class WaLeg implements MediaPort {
  readonly role: WaLegRole;
  readonly #opts: WaLegOptions;
  readonly #logger: Logger;
  readonly #pc: RTCPeerConnection;
  readonly #events: SafeEmitter<WaLegEvents>;
  readonly #inbound: InboundMedia;
  #transceiver: RTCRtpTransceiver | undefined;
  #writer: RtpStreamWriter | undefined;
  #fast: SrtpFastPath | null = null;
  #stream: OutboundAudioStream | undefined;
  #state: WaLegState = 'new';
  #mediaStarted = false;
  #gated = 0;
  #checksStartedAt = 0;
  #connectedAfterMs: number | undefined;
  #connectTimer: NodeJS.Timeout | undefined;
  #failing: Promise<void> | undefined;
  #closing: Promise<void> | undefined;

  private constructor(role: WaLegRole, options: WaLegOptions) {
    this.role = role;
    this.#opts = options;
    this.#logger = options.logger.child({ waLeg: role });
    this.#events = new SafeEmitter<WaLegEvents>(this.#logger);
    this.#inbound = new InboundMedia({
      logger: this.#logger,
      recordSeconds: options.recordSeconds ?? 0,
      onDtmf: (d) => this.#events.emit('dtmf', d),
    });
    this.#pc = new RTCPeerConnection(
      peerConfig({ iceLite: false, opusFmtp: GATEWAY_OPUS_FMTP, iceAddress: options.iceAddress, stunServer: options.stunServer }),
    );
    this.#pc.connectionStateChange.subscribe((s) => this.#onConnectionState(s));
  }

  /** User-initiated call: applies Meta's offer first, then creates our answer (never ice-lite, setup:active). */
  static async answerOffer(offerSdp: string, options: WaLegOptions): Promise<WaLegWithSdp> {
    checkRemoteSdp(offerSdp);
    const leg = new WaLeg('answerer', options);
    try {
      await leg.#setRemote('offer', offerSdp);
      const transceiver = leg.#pc.getTransceivers().find((t) => t.kind === 'audio');
      if (!transceiver) throw new SdpRejectedError(['no audio m-line'], 'remote');
      transceiver.setDirection('sendrecv');
      leg.#attach(transceiver);
      useHostCandidatesOnly(leg.#pc);
      await leg.#pc.setLocalDescription(await leg.#pc.createAnswer());
      const sdp = leg.#localSdp('answer');
      leg.#beginConnecting();
      return { leg, sdp };
    } catch (err) {
      await leg.close('answerOffer failed');
      throw err;
    }
  }

  /** Business-initiated call: our offer (`a=setup:actpass`, full ICE); apply Meta's answer with applyAnswer(). */
  static async createOffer(options: WaLegOptions): Promise<WaLegWithSdp> {
    const leg = new WaLeg('offerer', options);
    try {
      leg.#attach(leg.#pc.addTransceiver('audio', { direction: 'sendrecv' }));
      useHostCandidatesOnly(leg.#pc);
      await leg.#pc.setLocalDescription(await leg.#pc.createOffer());
      return { leg, sdp: leg.#localSdp('offer') };
    } catch (err) {
      await leg.close('createOffer failed');
      throw err;
    }
  }

  /**
   * Applies Meta's answer to our offer and starts ICE. Meta may answer `a=setup:active` (Meta is the DTLS
   * client, we serve) or `passive` (we are the client); both work (reference §6.1 "Business-initiated role").
   */
  async applyAnswer(answerSdp: string): Promise<void> {
    if (this.role !== 'offerer' || this.#state !== 'new' || this.#pc.signalingState !== 'have-local-offer') {
      throw new WaLegStateError(`applyAnswer (${this.role})`, this.#state);
    }
    checkRemoteSdp(answerSdp);
    await this.#setRemote('answer', answerSdp);
    this.#logger.debug({ setup: dtlsSetup(answerSdp) }, 'WhatsApp answer applied');
    this.#beginConnecting();
  }

  get state(): WaLegState {
    return this.#state;
  }

  get mediaStarted(): boolean {
    return this.#mediaStarted;
  }

  /** Our SDP (offer or answer) as werift set it, with its ICE candidates; undefined before it is made. */
  get localSdp(): string | undefined {
    return this.#pc.localDescription?.sdp;
  }

  /** Subscribes to 'stateChanged' or 'dtmf'; returns the unsubscribe function. Listener errors are logged. */
  on<K extends keyof WaLegEvents & string>(event: K, listener: (arg: WaLegEvents[K]) => void): () => void {
    return this.#events.on(event, listener);
  }

  /** Resolves once connected; rejects with WaLegFailedError when the leg fails or closes first. */
  whenConnected(): Promise<void> {
    if (this.#state === 'connected') return Promise.resolve();
    if (this.#state === 'failed' || this.#state === 'closed') return Promise.reject(new WaLegFailedError(`leg is ${this.#state}`));
    return new Promise((resolve, reject) => {
      const off = this.#events.on('stateChanged', ({ state, reason }) => {
        if (state === 'connected') resolve();
        else if (state === 'failed' || state === 'closed') reject(new WaLegFailedError(reason ?? `leg is ${state}`));
        else return;
        off();
      });
    });
  }

  /** Opens the media gate: from now on sendRtp and the play helpers reach WhatsApp, and RTCP SRs flow. */
  startMedia(): void {
    if (this.#state === 'failed' || this.#state === 'closed') throw new WaLegStateError('startMedia', this.#state);
    if (this.#mediaStarted) return;
    this.#mediaStarted = true;
    this.#writer?.startRtcp();
    this.#logger.debug('media gate open');
  }

  onRtp(listener: (packet: RtpPacketIn) => void): () => void {
    return this.#inbound.onRtp(listener);
  }

  /** MediaPort: sends on the leg's single SSRC with its own sequence numbers (any PT: 111 Opus, 126 DTMF). */
  sendRtp(packet: RtpPacketOut): void {
    if (!this.#mediaStarted || !this.#writer) {
      this.#gated++;
      return;
    }
    this.#writer.write(packet);
  }

  /** Demo helper: a continuous Opus-encoded tone, paced at 20 ms (subject to the media gate). */
  playTone(frequencyHz: number): void {
    this.#outbound().playTone(frequencyHz);
  }

  /** Demo helper: Opus silence frames (keeps RTP flowing). */
  playSilence(): void {
    this.#outbound().playSilence();
  }

  stopPlaying(): void {
    this.#stream?.stopSending();
  }

  /** RFC 4733 digits on PT 126 in the helper stream's timestamp space; resolves when the last end went out. */
  sendDtmf(digits: string, durationMs = 160): Promise<void> {
    return this.#outbound().sendDtmf(digits, durationMs);
  }

  /** Tone analysis of the received audio (needs `recordSeconds`); `lastMs` limits it to the newest audio. */
  analyseTone(frequencyHz: number, lastMs?: number): ToneReport {
    const recorder = this.#inbound.recorder;
    if (!recorder) throw new WaLegStateError('analyseTone without recordSeconds', this.#state);
    return recorder.analyse(frequencyHz, lastMs);
  }

  /** Decoded received audio, 48 kHz mono (empty without `recordSeconds`). */
  recording(lastMs?: number): Int16Array {
    return this.#inbound.recorder?.samples(lastMs) ?? new Int16Array(0);
  }

  /** SRTP and SRTCP packets heard from WhatsApp so far (a media timeout watches it). */
  get packetsHeard(): number {
    return this.#inbound.packetsHeard;
  }

  stats(): WaLegStats {
    const inbound = this.#inbound.stats();
    const out = this.#writer?.stats() ?? { packetsSent: 0, octetsSent: 0, senderReportsSent: 0, packetsDropped: 0 };
    const dtls = this.#transceiver?.dtlsTransport;
    return {
      state: this.#state,
      role: this.role,
      mediaStarted: this.#mediaStarted,
      ssrc: this.#writer?.ssrc ?? 0,
      packetsReceived: inbound.packetsReceived,
      bytesReceived: inbound.bytesReceived,
      dtmfReceived: inbound.dtmfReceived,
      ...out,
      packetsGated: this.#gated,
      ...(this.#state === 'connected' && dtls ? { dtlsRole: dtls.role, iceControlling: dtls.iceTransport.connection.iceControlling } : {}),
      ...(this.#connectedAfterMs !== undefined ? { connectedAfterMs: this.#connectedAfterMs } : {}),
      ...(this.#state === 'connected' ? { rtpPath: this.#fast ? ('fast' as const) : ('werift' as const) } : {}),
      ...(this.#fast ? fastPathFigures(this.#fast.stats()) : {}),
    };
  }

  /** Idempotent: stops media, timers and the peer connection (its UDP sockets). */
  close(reason = 'closed'): Promise<void> {
    this.#closing ??= (async () => {
      await this.#failing;
      await this.#shutdown('closed', reason);
    })();
    return this.#closing;
  }

  #attach(transceiver: RTCRtpTransceiver): void {
    this.#transceiver = transceiver;
    const dtlsTransport = transceiver.dtlsTransport;
    dtlsTransport.onRtp.subscribe((rtp) => this.#inbound.handle(rtp));
    dtlsTransport.onRtcp.subscribe((rtcp) => this.#inbound.handleRtcp(rtcp));
    this.#writer = new RtpStreamWriter({
      dtlsTransport,
      ssrc: transceiver.sender.ssrc,
      cname: `wagw-${transceiver.sender.ssrc.toString(16)}`,
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

  #localSdp(type: 'offer' | 'answer'): string {
    const local = this.#pc.localDescription?.sdp;
    if (!local) throw new Error('werift produced no local description');
    let sdp = filterCandidates(local, this.#opts.iceAddress);
    if (this.#opts.publicAddress) sdp = advertiseAddress(sdp, this.#opts.publicAddress);
    const problems = whatsappSdpProblems(sdp, type);
    if (problems.length) throw new SdpRejectedError(problems, 'local');
    this.#logger.debug({ type, sdp }, 'local SDP for WhatsApp');
    return sdp;
  }

  #outbound(): OutboundAudioStream {
    if (this.#state === 'failed' || this.#state === 'closed') throw new WaLegStateError('play', this.#state);
    this.#stream ??= new OutboundAudioStream({ send: (p) => this.sendRtp(p), logger: this.#logger, ...(this.#opts.clock ? { clock: this.#opts.clock } : {}) });
    return this.#stream;
  }

  #beginConnecting(): void {
    if (this.#state !== 'new') return;
    this.#checksStartedAt = performance.now();
    this.#setState('connecting');
    this.#connectTimer = setTimeout(() => {
      this.#connectTimer = undefined;
      if (this.#state === 'connecting') void this.#fail(`ICE/DTLS not connected within ${this.#opts.connectTimeoutMs} ms (${iceDtlsStates(this.#pc, this.#transceiver)})`);
    }, this.#opts.connectTimeoutMs);
    // The DTLS ClientHello can only follow a valid ICE pair; werift already started the checks.
    if (this.#pc.connectionState === 'connected') this.#onConnectionState('connected');
  }

  #onConnectionState(s: string): void {
    if (s === 'connected' && this.#state === 'connecting') {
      this.#clearConnectTimer();
      this.#connectedAfterMs = Math.round(performance.now() - this.#checksStartedAt);
      this.#useFastPath();
      this.#setState('connected');
      if (this.#mediaStarted) this.#writer?.startRtcp();
    } else if (s === 'failed' && (this.#state === 'connecting' || this.#state === 'connected')) {
      void this.#fail(`ICE/DTLS connection failed (${iceDtlsStates(this.#pc, this.#transceiver)})`);
    } else if (s === 'disconnected') {
      this.#logger.warn('WhatsApp leg ICE consent lost (disconnected)');
    }
  }

  #fail(reason: string): Promise<void> {
    if (!this.#closing) this.#failing ??= this.#shutdown('failed', reason);
    return this.#failing ?? Promise.resolve();
  }

  /** Once DTLS-SRTP is up, RTP moves to the fast path unless the options keep werift's (see WaLegOptions). */
  #useFastPath(): void {
    const dtls = this.#transceiver?.dtlsTransport;
    if (this.#opts.fastSrtp === false || !dtls || this.#fast) return;
    this.#fast = SrtpFastPath.attach(dtls, { onRtp: (p) => this.#inbound.handleFast(p), onRtcp: (r) => this.#inbound.handleRtcpBytes(r) }, this.#logger);
    this.#writer?.useFastPath(this.#fast, (now) => this.#inbound.receptionReport(now));
    if (this.#fast) this.#logger.debug({ profile: this.#fast.profile }, 'RTP on the SRTP fast path');
  }

  async #shutdown(final: 'failed' | 'closed', reason: string): Promise<void> {
    this.#clearConnectTimer();
    this.#writer?.useFastPath(null);
    this.#fast?.detach();
    this.#stream?.close();
    this.#writer?.close();
    this.#setState(final, reason);
    try {
      endDtlsRetransmissions(this.#pc);
      await this.#pc.close();
    } catch (err) {
      this.#logger.debug({ err }, 'peer connection close failed');
    }
    if (final === 'closed') this.#events.removeAll();
  }

  #clearConnectTimer(): void {
    if (this.#connectTimer) clearTimeout(this.#connectTimer);
    this.#connectTimer = undefined;
  }

  #setState(state: WaLegState, reason?: string): void {
    if (this.#state === state || this.#state === 'closed') return;
    const previous = this.#state;
    this.#state = state;
    this.#logger.info({ from: previous, to: state, reason }, 'WhatsApp leg state');
    this.#events.emit('stateChanged', { state, previous, ...(reason ? { reason } : {}) });
  }
}

/** What the leg's stats say of its fast path: SRTP/SRTCP refused, SRTCP taken, datagrams from other sources. */
function fastPathFigures(s: SrtpFastPathStats): Pick<WaLegStats, 'srtpRejected' | 'rtcpReceived' | 'packetsFromOtherSource'> {
  return { srtpRejected: s.authFailures + s.replays + s.malformed + s.rtcpRejected, rtcpReceived: s.rtcpReceived, packetsFromOtherSource: s.fromOtherSource };
}

/** Meta's SDPs always carry a DTLS fingerprint; without one (SDES numbers) a WebRTC leg cannot work (§8 pitfall 4). */
function checkRemoteSdp(sdp: string): void {
  const problems: string[] = [];
  if (!/^m=audio /m.test(sdp)) problems.push('no audio m-line');
  if (!hasFingerprint(sdp)) problems.push('no a=fingerprint (is the number set to SDES?)');
  if (problems.length) throw new SdpRejectedError(problems, 'remote');
}
