import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { ToneGenerator, type UserDtmfEvent, type UserMediaFactory, type UserMediaSession, type UserMediaStats } from '@wagw/media-bridge';

/**
 * A UserMediaFactory for the emulator's own tests: SDP-looking strings instead of a werift peer, and packet
 * counters a test moves by hand (`receiveFromBusiness`, `hear`). The emulator's rules read `stats()` and
 * `recording()` exactly as they do with the real implementation.
 */

function token(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}

const FINGERPRINT = 'a=fingerprint:sha-256 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:3E:4E:A6:3E:21:E4:7A:97:7C:9D:1D:7E';

/** WhatsApp's relay offer on a user-initiated call (reference §6.3): ICE-lite, actpass, Opus 111, telephone-event 126. */
export function whatsappOfferSdp(): string {
  return [
    'v=0',
    `o=- ${Date.now()} 2 IN IP4 127.0.0.1`,
    's=-',
    't=0 0',
    'a=group:BUNDLE audio',
    'a=ice-lite',
    'm=audio 40012 UDP/TLS/RTP/SAVPF 111 126',
    'c=IN IP4 127.0.0.1',
    'a=rtcp:9 IN IP4 0.0.0.0',
    'a=candidate:1 1 udp 2113937151 127.0.0.1 40012 typ host generation 0',
    `a=ice-ufrag:${token(6)}`,
    `a=ice-pwd:${token(18)}`,
    FINGERPRINT,
    'a=setup:actpass',
    'a=mid:audio',
    'a=sendrecv',
    'a=rtcp-mux',
    'a=rtpmap:111 opus/48000/2',
    'a=fmtp:111 minptime=20;useinbandfec=1',
    'a=rtpmap:126 telephone-event/8000',
    'a=ssrc:1111 cname:WhatsAppAudioStream1',
    '',
  ].join('\r\n');
}

/** WhatsApp's answer to a business offer (reference §2.4): the relay takes the DTLS client role. */
export function whatsappAnswerSdp(): string {
  return whatsappOfferSdp().replace('a=setup:actpass', 'a=setup:active');
}

/** A business answer as a gateway would send it on pre_accept/accept: full ICE, DTLS client. */
export function businessAnswerSdp(): string {
  return [
    'v=0',
    `o=- ${Date.now()} 2 IN IP4 127.0.0.1`,
    's=-',
    't=0 0',
    'a=group:BUNDLE audio',
    'm=audio 9 UDP/TLS/RTP/SAVPF 111 126',
    'c=IN IP4 0.0.0.0',
    `a=ice-ufrag:${token(6)}`,
    `a=ice-pwd:${token(18)}`,
    FINGERPRINT,
    'a=setup:active',
    'a=mid:audio',
    'a=sendrecv',
    'a=rtcp-mux',
    'a=rtpmap:111 opus/48000/2',
    'a=rtpmap:126 telephone-event/8000',
    '',
  ].join('\r\n');
}

/** A business offer for a business-initiated connect. */
export function businessOfferSdp(): string {
  return businessAnswerSdp().replace('a=setup:active', 'a=setup:actpass');
}

export class FakeUserMediaSession implements UserMediaSession {
  readonly waId: string;
  readonly callId: string;
  remoteSdp: string | undefined;
  sendingToneHz: number | undefined;
  dtmfSent: string[] = [];
  closed = false;
  #packetsReceived = 0;
  #rtcpReceived = 0;
  #firstAt: number | undefined;
  #lastAt: number | undefined;
  readonly #dtmfReceived: UserDtmfEvent[] = [];
  #recording = new Int16Array(0);

  constructor(options: { waId: string; callId: string }) {
    this.waId = options.waId;
    this.callId = options.callId;
  }

  async createOffer(): Promise<string> {
    return whatsappOfferSdp();
  }

  async applyAnswer(sdp: string): Promise<void> {
    if (sdp.includes('a=x-fail-apply')) throw new Error('fake: cannot apply this answer');
    this.remoteSdp = sdp;
  }

  async answerOffer(sdp: string): Promise<string> {
    this.remoteSdp = sdp;
    return whatsappAnswerSdp();
  }

  async connected(): Promise<void> {
    if (this.remoteSdp === undefined) throw new Error('fake: no remote description');
  }

  playTone(frequencyHz: number): void {
    this.sendingToneHz = frequencyHz;
  }

  async playWav(path: string): Promise<void> {
    if (!existsSync(path)) throw new Error(`no such file: ${path}`);
  }

  stopSending(): void {
    this.sendingToneHz = undefined;
  }

  async sendDtmf(digits: string): Promise<void> {
    this.dtmfSent.push(digits);
  }

  stats(): UserMediaStats {
    return {
      packetsReceived: this.#packetsReceived,
      rtcpReceived: this.#rtcpReceived,
      packetsSent: 0,
      ...(this.#firstAt !== undefined ? { firstPacketReceivedAt: this.#firstAt } : {}),
      ...(this.#lastAt !== undefined ? { lastPacketReceivedAt: this.#lastAt } : {}),
      dtmfReceived: [...this.#dtmfReceived],
      connectionState: this.closed ? 'closed' : this.remoteSdp ? 'connected' : 'new',
    };
  }

  recording(): Int16Array {
    return this.#recording;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** Test hook: `count` packets arrive from the business. */
  receiveFromBusiness(count: number): void {
    const now = Date.now();
    this.#packetsReceived += count;
    this.#firstAt ??= now;
    this.#lastAt = now;
  }

  /** Test hook: `count` RTCP reports arrive from the business (and no RTP: a call on hold). */
  receiveRtcpFromBusiness(count: number): void {
    this.#rtcpReceived += count;
  }

  /** Test hook: the business sends `ms` of a tone (20 ms packets, decoded at 48 kHz into the recording). */
  hear(frequencyHz: number, ms: number): void {
    const samples = new ToneGenerator(frequencyHz, 48_000).next(Math.round((48_000 * ms) / 1000));
    const joined = new Int16Array(this.#recording.length + samples.length);
    joined.set(this.#recording);
    joined.set(samples, this.#recording.length);
    this.#recording = joined;
    this.receiveFromBusiness(Math.ceil(ms / 20));
  }

  /** Test hook: a DTMF digit arrives from the business. */
  hearDtmf(digit: string, durationMs: number): void {
    this.#dtmfReceived.push({ digit, durationMs, at: Date.now() });
  }
}

export class FakeUserMediaFactory implements UserMediaFactory {
  readonly sessions = new Map<string, FakeUserMediaSession>();

  create(options: { waId: string; callId: string }): FakeUserMediaSession {
    const session = new FakeUserMediaSession(options);
    this.sessions.set(options.callId, session);
    return session;
  }

  session(callId: string): FakeUserMediaSession {
    const s = this.sessions.get(callId);
    if (!s) throw new Error(`fake: no session for call ${callId}`);
    return s;
  }
}
