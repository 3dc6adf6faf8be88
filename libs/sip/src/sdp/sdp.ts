import { SdpError, SipError } from '../sip.errors';

/**
 * Audio SDP toward the PBX (RFC 4566 syntax, RFC 3264 offer/answer): RTP/AVP, or RTP/SAVP with SDES keys
 * (RFC 4568 `a=crypto` lines, carried as text here; their keys are the media side's business). Only the
 * first audio m-line is used; other m-lines of an offer are answered with port 0 (RFC 3264 §6). IPv4 only.
 */

export type SdpDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
export type CodecName = 'PCMU' | 'PCMA' | 'G722' | 'opus';

export interface RtpCodec {
  payloadType: number;
  /** Encoding name as written in the rtpmap (`PCMU`, `opus`, `telephone-event`). */
  name: string;
  clockRate: number;
  channels?: number;
  fmtp?: string;
}

export interface SdpMediaLine {
  type: string;
  port: number;
  protocol: string;
  formats: string[];
}

/** One `a=crypto:<tag> <suite> <key-params> [<session-params>...]` line (RFC 4568 §9.1). */
export interface SdpCrypto {
  tag: number;
  suite: string;
  /** `inline:<base64 key||salt>[|lifetime][|MKI:length]`, several joined by `;` (kept as written). */
  keyParams: string;
  sessionParams: string[];
}

/** Protocols of an audio m-line: plain RTP, or SRTP keyed by SDES. */
export type AudioProtocol = 'RTP/AVP' | 'RTP/SAVP';

export interface AudioDescription {
  /** The effective connection address (media-level c= over session-level). */
  connectionAddress: string;
  port: number;
  protocol: string;
  /** RFC 4568 crypto attributes, in the order written (an offer's preference order). */
  crypto: SdpCrypto[];
  /** Audio codecs in m-line (preference) order, without telephone-event. */
  codecs: RtpCodec[];
  /** RFC 4733 telephone-event payload types. */
  telephoneEvents: RtpCodec[];
  ptime?: number;
  direction: SdpDirection;
}

export interface ParsedSdp {
  origin: { username: string; sessionId: string; sessionVersion: string; address: string };
  media: SdpMediaLine[];
  /** Index of the audio m-line in `media`, -1 when none. */
  audioIndex: number;
  audio?: AudioDescription;
}

const STATIC_CODECS: Record<number, RtpCodec> = {
  0: { payloadType: 0, name: 'PCMU', clockRate: 8000 },
  8: { payloadType: 8, name: 'PCMA', clockRate: 8000 },
  9: { payloadType: 9, name: 'G722', clockRate: 8000 },
};

/** What we offer for each codec when we build an offer (dynamic types follow common practice). */
export const DEFAULT_CODECS: Readonly<Record<CodecName, RtpCodec>> = {
  PCMU: STATIC_CODECS[0] as RtpCodec,
  PCMA: STATIC_CODECS[8] as RtpCodec,
  G722: STATIC_CODECS[9] as RtpCodec,
  opus: { payloadType: 111, name: 'opus', clockRate: 48000, channels: 2, fmtp: 'minptime=10;useinbandfec=1' },
};

const DIRECTIONS: readonly SdpDirection[] = ['sendrecv', 'sendonly', 'recvonly', 'inactive'];

interface MediaBlock {
  line: SdpMediaLine;
  connection?: string;
  attributes: string[];
}

function splitSdp(text: string): { session: string[]; blocks: MediaBlock[]; sessionAttrs: string[] } {
  const session: string[] = [];
  const sessionAttrs: string[] = [];
  const blocks: MediaBlock[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.length < 2 || line[1] !== '=') continue;
    const type = line[0];
    const value = line.slice(2);
    const current = blocks[blocks.length - 1];
    if (type === 'm') {
      const [mtype = '', port = '', protocol = '', ...formats] = value.split(/\s+/);
      blocks.push({ line: { type: mtype, port: portOf(port), protocol, formats }, attributes: [] });
    } else if (current) {
      if (type === 'c') current.connection = value;
      else if (type === 'a') current.attributes.push(value);
    } else if (type === 'a') sessionAttrs.push(value);
    else session.push(line);
  }
  return { session, blocks, sessionAttrs };
}

/** `<port>` or `<port>/<number of ports>` of an m= line (RFC 4566 §5.14); SdpError when it is no port. */
function portOf(field: string): number {
  const m = /^(\d{1,5})(?:\/\d+)?$/.exec(field);
  const port = Number(m?.[1]);
  if (!m || port > 65535) throw new SdpError('SDP m= line without a port 0-65535');
  return port;
}

function connectionAddress(c: string | undefined): string | undefined {
  const m = c ? /^IN\s+IP[46]\s+([^\s/]+)/.exec(c) : null;
  return m?.[1];
}

function directionOf(attrs: readonly string[]): SdpDirection | undefined {
  return DIRECTIONS.find((d) => attrs.includes(d));
}

/** `<encoding name>/<clock rate>[/<channels>]` (RFC 4566 §6), rate and channels whole and positive; else undefined. */
function rtpmapCodec(payloadType: number, text: string): RtpCodec | undefined {
  const [name = '', rate = '', channels] = text.trim().split('/');
  const whole = (s: string) => /^\d+$/.test(s) && Number(s) > 0 && Number.isSafeInteger(Number(s));
  if (name === '' || !whole(rate) || (channels && !whole(channels))) return undefined;
  const codec: RtpCodec = { payloadType, name, clockRate: Number(rate) };
  if (channels) codec.channels = Number(channels);
  return codec;
}

function codecsOf(block: MediaBlock): RtpCodec[] {
  const codecs: RtpCodec[] = [];
  for (const fmt of block.line.formats) {
    const pt = Number(fmt);
    // RTP carries the payload type in 7 bits (RFC 3550 §5.1)
    if (!Number.isInteger(pt) || pt < 0 || pt > 127) continue;
    const rtpmap = block.attributes.find((a) => a.startsWith(`rtpmap:${pt} `));
    // a malformed rtpmap is left out: a static type keeps its RFC 3551 meaning, a dynamic one is unusable
    let codec = rtpmap ? rtpmapCodec(pt, rtpmap.slice(`rtpmap:${pt} `.length)) : undefined;
    if (!codec && STATIC_CODECS[pt]) codec = { ...(STATIC_CODECS[pt] as RtpCodec) };
    if (!codec) continue;
    const fmtp = block.attributes.find((a) => a.startsWith(`fmtp:${pt} `));
    if (fmtp) codec.fmtp = fmtp.slice(`fmtp:${pt} `.length).trim();
    codecs.push(codec);
  }
  return codecs;
}

const CRYPTO_RE = /^crypto:(\d{1,9})\s+(\S+)\s+(\S+)((?:\s+\S+)*)\s*$/;

/** The block's well-formed `a=crypto` lines; a malformed one is left out (it cannot be chosen). */
function cryptoOf(block: MediaBlock): SdpCrypto[] {
  const out: SdpCrypto[] = [];
  for (const a of block.attributes) {
    const m = CRYPTO_RE.exec(a);
    if (!m) continue;
    out.push({ tag: Number(m[1]), suite: m[2] as string, keyParams: m[3] as string, sessionParams: (m[4] ?? '').split(/\s+/).filter((p) => p.length > 0) });
  }
  return out;
}

/** The m-line protocol is RTP/AVP or RTP/SAVP (case-insensitive), written the canonical way; else undefined. */
export function audioProtocolOf(protocol: string): AudioProtocol | undefined {
  const upper = protocol.toUpperCase();
  return upper === 'RTP/AVP' || upper === 'RTP/SAVP' ? upper : undefined;
}

/** Parses an SDP body. Throws SdpError when it has no origin line or no media, or an m= line without a port 0-65535. */
export function parseSdp(text: string): ParsedSdp {
  const { session, blocks, sessionAttrs } = splitSdp(text);
  const o = session.find((l) => l.startsWith('o='));
  if (!o || blocks.length === 0) throw new SdpError('SDP without o= line or m= line');
  const [username = '-', sessionId = '0', sessionVersion = '0', , , address = ''] = o.slice(2).split(/\s+/);
  const sessionConnection = connectionAddress(session.find((l) => l.startsWith('c='))?.slice(2));
  const audioIndex = blocks.findIndex((b) => b.line.type === 'audio');
  const parsed: ParsedSdp = {
    origin: { username, sessionId, sessionVersion, address },
    media: blocks.map((b) => b.line),
    audioIndex,
  };
  const block = blocks[audioIndex];
  if (block) {
    const all = codecsOf(block);
    const ptime = Number(block.attributes.find((a) => a.startsWith('ptime:'))?.slice('ptime:'.length));
    const audio: AudioDescription = {
      connectionAddress: connectionAddress(block.connection) ?? sessionConnection ?? '',
      port: block.line.port,
      protocol: block.line.protocol,
      crypto: cryptoOf(block),
      codecs: all.filter((c) => c.name.toLowerCase() !== 'telephone-event'),
      telephoneEvents: all.filter((c) => c.name.toLowerCase() === 'telephone-event'),
      direction: directionOf(block.attributes) ?? directionOf(sessionAttrs) ?? 'sendrecv',
    };
    if (Number.isFinite(ptime) && ptime > 0) audio.ptime = ptime;
    parsed.audio = audio;
  }
  return parsed;
}

/** The first codec of `preferences` (our order) that the remote audio description also lists. */
export function pickCodec(audio: AudioDescription, preferences: readonly CodecName[]): RtpCodec | undefined {
  for (const name of preferences) {
    const found = audio.codecs.find((c) => c.name.toLowerCase() === name.toLowerCase());
    if (found) return found;
  }
  return undefined;
}

export interface BuildAudioSdpOptions {
  address: string;
  port: number;
  codecs: readonly RtpCodec[];
  telephoneEvent?: RtpCodec;
  ptime?: number;
  direction?: SdpDirection;
  /** Default RTP/AVP. */
  protocol?: AudioProtocol;
  /** `a=crypto` lines (RFC 4568) for the audio stream. */
  crypto?: readonly SdpCrypto[];
  sessionId?: string;
  sessionVersion?: string | number;
  /** Rejected non-audio m-lines to echo with port 0 (answers only). */
  rejected?: readonly { index: number; line: SdpMediaLine }[];
  audioIndex?: number;
}

function codecLines(c: RtpCodec): string[] {
  const lines = [`a=rtpmap:${c.payloadType} ${c.name}/${c.clockRate}${c.channels && c.channels > 1 ? `/${c.channels}` : ''}`];
  if (c.fmtp) lines.push(`a=fmtp:${c.payloadType} ${c.fmtp}`);
  return lines;
}

/** Serialises one audio stream (plus rejected m-lines) as SDP with CRLF line ends. */
export function buildAudioSdp(o: BuildAudioSdpOptions): string {
  const sessionId = o.sessionId ?? String(Date.now());
  const all = o.telephoneEvent ? [...o.codecs, o.telephoneEvent] : [...o.codecs];
  const audio = [`m=audio ${o.port} ${o.protocol ?? 'RTP/AVP'} ${all.map((c) => c.payloadType).join(' ')}`, `c=IN IP4 ${o.address}`];
  for (const c of all) audio.push(...codecLines(c));
  if (o.ptime) audio.push(`a=ptime:${o.ptime}`);
  for (const c of o.crypto ?? []) audio.push(`a=crypto:${c.tag} ${c.suite} ${c.keyParams}${c.sessionParams.map((p) => ` ${p}`).join('')}`);
  audio.push(`a=${o.direction ?? 'sendrecv'}`);
  const sections: string[][] = [];
  for (const r of o.rejected ?? []) sections[r.index] = [`m=${r.line.type} 0 ${r.line.protocol} ${r.line.formats.join(' ') || '0'}`];
  sections[o.audioIndex ?? 0] = audio;
  const lines = [
    'v=0',
    `o=- ${sessionId} ${o.sessionVersion ?? sessionId} IN IP4 ${o.address}`,
    's=-',
    `c=IN IP4 ${o.address}`,
    't=0 0',
    ...sections.filter((s) => s !== undefined).flat(),
  ];
  return `${lines.join('\r\n')}\r\n`;
}

export interface OfferOptions {
  address: string;
  port: number;
  /** Codecs in preference order. Default PCMU, PCMA. */
  codecs?: readonly CodecName[];
  /** Offer RFC 4733 telephone-event/8000 (payload type 101). Default true. */
  telephoneEvent?: boolean;
  ptime?: number;
  sessionId?: string;
  /** Default RTP/AVP. */
  protocol?: AudioProtocol;
  crypto?: readonly SdpCrypto[];
}

export function buildOffer(o: OfferOptions): string {
  const codecs = (o.codecs ?? ['PCMU', 'PCMA']).map((n) => DEFAULT_CODECS[n]);
  const opts: BuildAudioSdpOptions = { address: o.address, port: o.port, codecs, ptime: o.ptime ?? 20 };
  if (o.protocol) opts.protocol = o.protocol;
  if (o.crypto) opts.crypto = o.crypto;
  if (o.telephoneEvent ?? true) opts.telephoneEvent = { payloadType: 101, name: 'telephone-event', clockRate: 8000, fmtp: '0-16' };
  if (o.sessionId) opts.sessionId = o.sessionId;
  return buildAudioSdp(opts);
}

export interface AnswerOptions {
  address: string;
  port: number;
  preferences: readonly CodecName[];
  ptime?: number;
  /** Accept the offer's telephone-event if present. Default true. */
  telephoneEvent?: boolean;
  sessionId?: string;
  /** o= session version (default: the session id); RFC 3264 §8 wants it raised when a re-answer changes. */
  sessionVersion?: string | number;
  /** m= protocols taken in an offer (answered with the same one). Default RTP/AVP only. */
  protocols?: readonly AudioProtocol[];
  /** `a=crypto` lines of the answer (the one chosen from the offer's, with our key). */
  crypto?: readonly SdpCrypto[];
}

export interface SdpAnswer {
  sdp: string;
  codec: RtpCodec;
  telephoneEvent?: RtpCodec;
  /** The offer's media address and port (where to send RTP). */
  remote: { address: string; port: number };
}

const ANSWER_DIRECTION: Record<SdpDirection, SdpDirection> = {
  sendrecv: 'sendrecv',
  sendonly: 'recvonly',
  recvonly: 'sendonly',
  inactive: 'inactive',
};

/**
 * Answers an audio offer with one codec (ours by preference, offer's payload type) and the offer's
 * telephone-event at that clock rate. Throws SipError(488) when nothing matches (RFC 3264 §6).
 */
export function buildAnswer(offer: string | ParsedSdp, o: AnswerOptions): SdpAnswer {
  let parsed: ParsedSdp;
  try {
    parsed = typeof offer === 'string' ? parseSdp(offer) : offer;
  } catch {
    throw new SipError(488, 'Not Acceptable Here', { warning: '399 wagw "Unparseable SDP"' });
  }
  const audio = parsed.audio;
  const protocol = audio ? audioProtocolOf(audio.protocol) : undefined;
  if (!audio || audio.port === 0 || protocol === undefined || !(o.protocols ?? ['RTP/AVP']).includes(protocol)) {
    throw new SipError(488, 'Not Acceptable Here', { warning: `304 wagw "No ${(o.protocols ?? ['RTP/AVP']).join(' or ')} audio stream"` });
  }
  const codec = pickCodec(audio, o.preferences);
  if (!codec) throw new SipError(488, 'Not Acceptable Here', { warning: '305 wagw "Incompatible media format"' });
  const te = (o.telephoneEvent ?? true) ? audio.telephoneEvents.find((t) => t.clockRate === codec.clockRate) : undefined;
  const build: BuildAudioSdpOptions = {
    address: o.address,
    port: o.port,
    codecs: [codec],
    direction: ANSWER_DIRECTION[audio.direction],
    protocol,
    audioIndex: parsed.audioIndex,
    rejected: parsed.media.map((line, index) => ({ index, line })).filter((m) => m.index !== parsed.audioIndex),
  };
  const ptime = o.ptime ?? audio.ptime;
  if (ptime) build.ptime = ptime;
  if (te) build.telephoneEvent = te;
  if (o.crypto) build.crypto = o.crypto;
  if (o.sessionId) build.sessionId = o.sessionId;
  if (o.sessionVersion !== undefined) build.sessionVersion = o.sessionVersion;
  const answer: SdpAnswer = { sdp: buildAudioSdp(build), codec, remote: { address: audio.connectionAddress, port: audio.port } };
  if (te) answer.telephoneEvent = te;
  return answer;
}
