/**
 * baresip 1.0 (Debian) headless configuration: no sound card (aufile source, no player), sndfile dumps of
 * both directions, ctrl_tcp for commands/events and cons (UDP) for DTMF keypresses. Pure text builders.
 */

export type BaresipTransport = 'udp' | 'tcp';
export type BaresipCodec = 'PCMU' | 'PCMA' | 'G722';

/**
 * SDES-SRTP (RFC 4568) modes of baresip's `srtp` module, the account's `mediaenc` value (measured on 1.0):
 * - `srtp`: best effort. Offers `RTP/AVP` plus one `a=crypto:1 AES_CM_128_HMAC_SHA1_80` line; encrypts only
 *   if the answer has a crypto line. As callee it accepts RTP/AVP, RTP/SAVP and RTP/SAVPF offers.
 * - `srtp-mand`: offers `RTP/SAVP` (same single crypto line); as callee answers 488 to anything but RTP/SAVP.
 * - `srtp-mandf`: the same with `RTP/SAVPF` only.
 * As callee it picks the first offered crypto line whose suite it knows (AES_CM_128_HMAC_SHA1_80 or _32,
 * AEAD GCM), in offer order, and answers with that line's tag and a fresh key (no lifetime or MKI).
 */
export const BARESIP_MEDIA_ENCRYPTIONS = ['srtp', 'srtp-mand', 'srtp-mandf'] as const;
export type BaresipMediaEncryption = (typeof BARESIP_MEDIA_ENCRYPTIONS)[number];

export interface BaresipConfigInput {
  host: string;
  sipPort: number;
  transport: BaresipTransport;
  wavPath: string;
  recordDir: string;
  ctrlPort: number;
  consPort: number;
  rtpPortMin: number;
  rtpPortMax: number;
  modulesDir: string;
  /** Rate of the WAV source and of the recordings: 8000 (default), or 16000 for wideband (G.722) calls. */
  sampleRate?: 8000 | 16000;
}

export interface BaresipAccountInput {
  user: string;
  password?: string;
  registrar: { host: string; port: number };
  transport: BaresipTransport;
  answerMode: 'auto' | 'manual';
  codecs: readonly BaresipCodec[];
  /** 0 disables registration. */
  registerIntervalS: number;
  /** SDES-SRTP mode (`mediaenc`); absent: plain RTP/AVP, and RTP/SAVP offers get 488. */
  mediaEncryption?: BaresipMediaEncryption;
}

const SAFE_RE = /^[^\s<>;"]+$/;
const USER_RE = /^[A-Za-z0-9_.+-]+$/;

function check(value: string, re: RegExp, what: string): string {
  if (!re.test(value)) throw new TypeError(`invalid ${what} for the baresip config: ${JSON.stringify(value)}`);
  return value;
}

export function buildBaresipConfig(c: BaresipConfigInput): string {
  const rows: [string, string][] = [
    ['poll_method', 'epoll'],
    ['sip_listen', `${c.host}:${c.sipPort}`],
    ['sip_trans_def', c.transport],
    ['net_interface', c.host],
    ['net_prefer_ipv6', 'no'],
    ['call_local_timeout', '120'],
    ['call_max_calls', '4'],
    ['audio_player', 'none'],
    ['audio_source', `aufile,${check(c.wavPath, SAFE_RE, 'wav path')}`],
    ['audio_alert', 'none'],
    ['ausrc_srate', String(c.sampleRate ?? 8000)],
    ['auplay_srate', String(c.sampleRate ?? 8000)],
    ['ausrc_channels', '1'],
    ['auplay_channels', '1'],
    ['audio_level', 'no'],
    ['rtp_ports', `${c.rtpPortMin}-${c.rtpPortMax}`],
    ['jitter_buffer_delay', '1-10'],
    ['rtp_stats', 'yes'],
    ['module_path', check(c.modulesDir, SAFE_RE, 'modules dir')],
    ['module', 'g711.so'],
    // G.722 (spandsp); offered only by accounts whose audio_codecs name it
    ['module', 'g722.so'],
    ['module', 'aufile.so'],
    ['module', 'sndfile.so'],
    ['module', 'cons.so'],
    // SDES-SRTP; inert unless an account sets mediaenc (measured: same RTP/AVP SDP, no crypto line)
    ['module', 'srtp.so'],
    ['module_app', 'account.so'],
    ['module_app', 'menu.so'],
    ['module_app', 'ctrl_tcp.so'],
    ['snd_path', check(c.recordDir, SAFE_RE, 'record dir')],
    ['ctrl_tcp_listen', `${c.host}:${c.ctrlPort}`],
    ['cons_listen', `${c.host}:${c.consPort}`],
  ];
  return `${rows.map(([k, v]) => `${k.padEnd(24)}${v}`).join('\n')}\n`;
}

/** The account's address of record: `sip:user@registrar-host:port`. */
export function baresipAor(a: Pick<BaresipAccountInput, 'user' | 'registrar'>): string {
  return `sip:${a.user}@${a.registrar.host}:${a.registrar.port}`;
}

/**
 * A codec as `audio_codecs` names it. A bare name means 8000 Hz to baresip 1.0, so G.722 (registered at its
 * 16 kHz audio rate) needs its rate spelled out, or the account logs "audio codec not found" and offers all.
 */
function accountCodec(codec: BaresipCodec): string {
  return codec === 'G722' ? 'G722/16000/1' : codec;
}

/** One line of baresip's `accounts` file. */
export function buildBaresipAccount(a: BaresipAccountInput): string {
  check(a.user, USER_RE, 'user');
  const params = [`regint=${a.registerIntervalS}`, `answermode=${a.answerMode}`, `audio_codecs=${a.codecs.map(accountCodec).join(',')}`];
  if (a.password !== undefined) params.unshift(`auth_pass=${check(a.password, SAFE_RE, 'password')}`);
  if (a.mediaEncryption !== undefined) {
    if (!BARESIP_MEDIA_ENCRYPTIONS.includes(a.mediaEncryption)) {
      throw new TypeError(`invalid media encryption for the baresip account: ${JSON.stringify(a.mediaEncryption)}`);
    }
    params.push(`mediaenc=${a.mediaEncryption}`);
  }
  return `<${baresipAor(a)};transport=${a.transport}>;${params.join(';')}\n`;
}

/** True when baresip's `reginfo` text shows `aor` registered ("OK", after stripping colours). */
export function parseRegInfo(text: string, aor: string): boolean {
  // eslint-disable-next-line no-control-regex
  const plain = text.replace(/\u001b\[[0-9;]*m/g, '');
  return plain.split('\n').some((line) => line.includes(aor) && /\bOK\b/.test(line));
}
