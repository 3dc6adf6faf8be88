import { randomBytes, randomInt, X509Certificate } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { CipherContext, HashAlgorithm, NamedCurveAlgorithm, SignatureAlgorithm } from 'werift';
import type { Logger } from '@wagw/logging';
import type { UserMediaFactory, UserMediaSession, UserMediaStats } from '@wagw/media-bridge';
import { ControlError } from '../domain/emulator.errors';

/** What every sdp-only session of one factory shares: the sink's port and the certificate's fingerprint. */
interface SdpOnlyIdentity {
  port: number;
  /** `sha-256 AB:CD:...` of a real self-signed P-256 certificate made once per factory. */
  fingerprint: string;
}

export interface SdpOnlyUserMediaOptions {
  callId: string;
  iceAddress: string;
  identity: () => Promise<SdpOnlyIdentity>;
  logger: Logger;
}

const CNAME = 'WhatsAppAudioStream1';
const META_OPUS_FMTP = 'maxaveragebitrate=20000;maxplaybackrate=16000;minptime=20;sprop-maxcapturerate=16000;useinbandfec=1';

/** Meta's relay SDP shape (reference §6.1): ICE-lite, one host candidate, Opus PT 111, telephone-event PT 126, one SSRC. */
function relaySdp(o: { address: string; port: number; fingerprint: string; setup: 'actpass' | 'active' }): string {
  const ufrag = randomBytes(2).toString('hex');
  const ssrc = randomInt(1, 0xffffffff);
  const lines = [
    'v=0',
    `o=- ${randomInt(1, 2 ** 31)} 0 IN IP4 0.0.0.0`,
    's=-',
    't=0 0',
    'a=group:BUNDLE 0',
    'a=msid-semantic:WMS *',
    'a=ice-lite',
    'm=audio 9 UDP/TLS/RTP/SAVPF 111 126',
    'c=IN IP4 0.0.0.0',
    `a=candidate:${randomBytes(8).toString('hex')} 1 udp 2116026367 ${o.address} ${o.port} typ host generation 0 ufrag ${ufrag}`,
    'a=end-of-candidates',
    `a=ice-ufrag:${ufrag}`,
    `a=ice-pwd:${randomBytes(11).toString('hex')}`,
    `a=fingerprint:${o.fingerprint}`,
    `a=setup:${o.setup}`,
    'a=sendrecv',
    'a=mid:0',
    'a=rtcp:9 IN IP4 0.0.0.0',
    'a=rtcp-mux',
    `a=ssrc:${ssrc} cname:${CNAME}`,
    'a=rtpmap:111 opus/48000/2',
    `a=fmtp:111 ${META_OPUS_FMTP}`,
    'a=rtpmap:126 telephone-event/8000',
  ];
  return `${lines.join('\r\n')}\r\n`;
}

/**
 * A user whose media is SDP only (media mode `sdp-only`, for load runs): the offer and answers have the
 * relay's shape with real ICE credentials and the fingerprint of a real certificate, but no peer runs, so a
 * call costs the emulator almost nothing. The candidate is the factory's sink socket, which takes the
 * business's ICE checks and answers none: the business's WebRTC leg is created for real and never
 * connects (it fails at its own connect timeout), no audio flows either way, `stats()` stay at zero (so
 * the media watchdog ends an accepted call after `emulator.mediaTimeoutMs`), `connected()` rejects at once,
 * and tone, WAV and DTMF are refused (409).
 */
export class SdpOnlyUserMedia implements UserMediaSession {
  readonly #opts: SdpOnlyUserMediaOptions;
  #closed = false;
  #remoteSdp: string | undefined;

  constructor(options: SdpOnlyUserMediaOptions) {
    this.#opts = options;
  }

  /** The business's SDP this user got (pre_accept/accept answer, or a business offer). */
  get remoteSdp(): string | undefined {
    return this.#remoteSdp;
  }

  async createOffer(): Promise<string> {
    this.#assertOpen('createOffer');
    const { port, fingerprint } = await this.#opts.identity();
    return relaySdp({ address: this.#opts.iceAddress, port, fingerprint, setup: 'actpass' });
  }

  async applyAnswer(sdp: string): Promise<void> {
    this.#assertOpen('applyAnswer');
    this.#remoteSdp = sdp;
  }

  async answerOffer(sdp: string): Promise<string> {
    this.#assertOpen('answerOffer');
    this.#remoteSdp = sdp;
    const { port, fingerprint } = await this.#opts.identity();
    return relaySdp({ address: this.#opts.iceAddress, port, fingerprint, setup: 'active' });
  }

  connected(_timeoutMs: number): Promise<void> {
    return Promise.reject(new Error('media mode sdp-only: no peer runs, ICE/DTLS never come up'));
  }

  playTone(_frequencyHz: number): void {
    throw unsupported('tone');
  }

  playWav(_path: string): Promise<void> {
    return Promise.reject(unsupported('WAV playback'));
  }

  stopSending(): void {
    // nothing is ever sent: stopping is already the case
  }

  sendDtmf(_digits: string, _durationMs?: number): Promise<void> {
    return Promise.reject(unsupported('DTMF'));
  }

  stats(): UserMediaStats {
    return { packetsReceived: 0, packetsSent: 0, dtmfReceived: [], connectionState: this.#closed ? 'closed' : 'new' };
  }

  recording(): Int16Array {
    return new Int16Array(0);
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #assertOpen(operation: string): void {
    if (this.#closed) throw new ControlError('conflict', `${operation}: the user's media (${this.#opts.callId}) is closed`);
  }
}

function unsupported(what: string): ControlError {
  return new ControlError('conflict', `${what} is not available in media mode sdp-only (no peer runs; use the simulated mode for audio)`);
}

/**
 * Builds sdp-only sessions. Lazily, once: binds the sink UDP socket on `iceAddress` (ICE checks to the
 * candidate land there and are counted, never answered) and makes a self-signed P-256 certificate whose
 * SHA-256 fingerprint every SDP carries. `close()` releases the socket.
 */
export class SdpOnlyUserMediaFactory implements UserMediaFactory {
  readonly #iceAddress: string;
  readonly #logger: Logger;
  #identity: Promise<SdpOnlyIdentity> | undefined;
  #sink: Socket | undefined;
  #sinkPackets = 0;

  constructor(options: { iceAddress: string; logger: Logger }) {
    this.#iceAddress = options.iceAddress;
    this.#logger = options.logger;
  }

  /** Packets (the business's ICE checks) that reached the sink. */
  get sinkPackets(): number {
    return this.#sinkPackets;
  }

  create(options: { waId: string; callId: string }): UserMediaSession {
    return new SdpOnlyUserMedia({ callId: options.callId, iceAddress: this.#iceAddress, identity: () => this.#ensureIdentity(), logger: this.#logger });
  }

  async close(): Promise<void> {
    const pending = this.#identity;
    this.#identity = undefined;
    // a failed identity has nothing to release; one still being made is waited for, then released
    if (pending) await pending.catch(() => undefined);
    const sink = this.#sink;
    this.#sink = undefined;
    if (sink) await new Promise<void>((resolve) => sink.close(() => resolve()));
  }

  #ensureIdentity(): Promise<SdpOnlyIdentity> {
    this.#identity ??= this.#makeIdentity().catch((err: unknown) => {
      this.#identity = undefined;
      throw err;
    });
    return this.#identity;
  }

  async #makeIdentity(): Promise<SdpOnlyIdentity> {
    const cert = await CipherContext.createSelfSignedCertificateWithKey(
      { hash: HashAlgorithm.sha256_4, signature: SignatureAlgorithm.ecdsa_3 },
      NamedCurveAlgorithm.secp256r1_23,
    );
    const fingerprint = `sha-256 ${new X509Certificate(cert.certPem).fingerprint256}`;
    const sink = createSocket('udp4');
    sink.on('message', () => this.#sinkPackets++);
    await new Promise<void>((resolve, reject) => {
      sink.once('error', reject);
      sink.bind(0, this.#iceAddress, () => resolve());
    });
    sink.on('error', (err) => this.#logger.warn({ err }, 'sdp-only sink socket error'));
    this.#sink = sink;
    const port = sink.address().port;
    this.#logger.info({ address: this.#iceAddress, port }, 'sdp-only user media ready (sink socket bound, certificate made)');
    return { port, fingerprint };
  }
}
