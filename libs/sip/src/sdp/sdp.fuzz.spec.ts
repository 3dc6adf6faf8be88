import { fuzz, mutateText, type Prng } from '@wagw/testing';
import { SdpError, SipError } from '../sip.errors';
import { buildAnswer, parseSdp, pickCodec, type AnswerOptions, type AudioProtocol, type CodecName, type ParsedSdp, type RtpCodec, type SdpDirection } from './sdp';

/**
 * Robustness of the SDP helpers on mutated PBX offers and answers. The contract (sdp.ts, and its callers in
 * apps/media/src/sessions/pbx-sdp.ts, which map these errors to 488): `parseSdp` returns a well-formed
 * description or throws SdpError; `pickCodec` never throws; `buildAnswer` returns an answer that parses
 * again or throws SipError(488). Any other error (TypeError, RangeError) is a bug.
 */

const crlf = (...lines: string[]) => `${lines.join('\r\n')}\r\n`;

/** Realistic PBX SDP: sdp.spec.ts and test/sipp/*.xml (placeholders filled in), plus common trunk shapes. */
const SEEDS: readonly string[] = [
  // Asterisk: session-level c=, static types without rtpmap, telephone-event (sdp.spec.ts)
  crlf('v=0', 'o=- 1234 5678 IN IP4 10.0.0.5', 's=Asterisk', 'c=IN IP4 10.0.0.5', 't=0 0', 'm=audio 18000 RTP/AVP 8 0 101', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16', 'a=ptime:20', 'a=maxptime:150', 'a=sendrecv'),
  // SIPp PBX offer (uac-pbx-calls-user-expect-200.xml)
  crlf('v=0', 'o=pbx 41 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 6000 RTP/AVP 0 8 101', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16', 'a=ptime:20', 'a=sendrecv'),
  // SIPp G.729 only (uac-g729-only-expect-488.xml)
  crlf('v=0', 'o=pbx 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 6000 RTP/AVP 18', 'a=rtpmap:18 G729/8000', 'a=fmtp:18 annexb=no'),
  // SIPp hold (uac-pbx-moves-holds-resumes-expect-200.xml): sendonly
  crlf('v=0', 'o=pbx 41 3 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 6002 RTP/AVP 0 8 101', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16', 'a=ptime:20', 'a=sendonly'),
  // RFC 2543 hold: c=0.0.0.0
  crlf('v=0', 'o=pbx 41 4 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 0.0.0.0', 't=0 0', 'm=audio 6002 RTP/AVP 0 101', 'a=rtpmap:101 telephone-event/8000', 'a=inactive'),
  // FreeSWITCH: G.722, Opus, G.711, two telephone-events, CN
  crlf(
    'v=0', 'o=FreeSWITCH 1767160000 1767160001 IN IP4 198.51.100.7', 's=FreeSWITCH', 'c=IN IP4 198.51.100.7', 't=0 0',
    'm=audio 24580 RTP/AVP 9 102 0 8 101 100 13', 'a=rtpmap:9 G722/8000', 'a=rtpmap:102 opus/48000/2',
    'a=fmtp:102 useinbandfec=1; maxaveragebitrate=30000; maxplaybackrate=48000; ptime=20; minptime=10; maxptime=40',
    'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16',
    'a=rtpmap:100 telephone-event/48000', 'a=fmtp:100 0-16', 'a=rtpmap:13 CN/8000', 'a=ptime:20', 'a=rtcp:24581 IN IP4 198.51.100.7',
  ),
  // SDES: RTP/SAVP with crypto lines (sdp.spec.ts)
  crlf(
    'v=0', 'o=- 1 1 IN IP4 10.0.0.5', 's=-', 'c=IN IP4 10.0.0.5', 't=0 0', 'm=audio 18000 RTP/SAVP 0 8 101', 'a=rtpmap:101 telephone-event/8000',
    'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4',
    'a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj UNENCRYPTED_SRTCP KDR=1', 'a=sendrecv',
  ),
  // Several m-lines: video and T.38 beside audio (answered with port 0, RFC 3264 §6)
  crlf('v=0', 'o=- 1 1 IN IP4 10.0.0.1', 's=-', 'c=IN IP4 10.0.0.1', 't=0 0', 'm=video 9000 RTP/AVP 96', 'a=rtpmap:96 H264/90000', 'm=audio 9002 RTP/AVP 0 8', 'a=sendonly', 'm=image 9004 udptl t38', 'a=T38FaxVersion:0'),
  // Opus with media-level c= and LF line ends (sdp.spec.ts)
  'v=0\no=x 1 1 IN IP4 1.1.1.1\ns=-\nc=IN IP4 1.1.1.1\nt=0 0\nm=audio 5004 RTP/AVP 111 101\nc=IN IP4 2.2.2.2\na=rtpmap:111 opus/48000/2\na=fmtp:111 useinbandfec=1\na=rtpmap:101 telephone-event/48000\na=sendonly\n',
  // Cisco CUCM answer: one codec, telephone-event 0-15, session-level direction
  crlf('v=0', 'o=CiscoSystemsCCM-SIP 2000 1 IN IP4 10.10.10.1', 's=SIP Call', 'c=IN IP4 10.10.10.2', 'b=TIAS:64000', 't=0 0', 'a=recvonly', 'm=audio 16384 RTP/AVP 0 101', 'b=AS:80', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-15', 'a=ptime:20'),
  // Polycom: port/count, dynamic G.722.1 that we cannot take, G.722 by number
  crlf('v=0', 'o=- 1767160000 1767160000 IN IP4 192.0.2.44', 's=Polycom IP Phone', 'c=IN IP4 192.0.2.44', 't=0 0', 'm=audio 2222/2 RTP/AVP 115 9 0 127', 'a=rtpmap:115 G7221/32000', 'a=fmtp:115 bitrate=48000', 'a=rtpmap:9 G722/8000', 'a=rtpmap:127 telephone-event/8000', 'a=sendrecv'),
];

const CODECS: readonly CodecName[] = ['PCMU', 'PCMA', 'G722', 'opus'];
const PREFERENCES: readonly (readonly CodecName[])[] = [['PCMU', 'PCMA'], ['opus', 'G722', 'PCMA', 'PCMU'], ['G722'], ['PCMA']];
const PROTOCOLS: readonly (readonly AudioProtocol[])[] = [['RTP/AVP'], ['RTP/AVP', 'RTP/SAVP']];
const DIRECTIONS: readonly SdpDirection[] = ['sendrecv', 'sendonly', 'recvonly', 'inactive'];
const MIRROR: Record<SdpDirection, SdpDirection> = { sendrecv: 'sendrecv', sendonly: 'recvonly', recvonly: 'sendonly', inactive: 'inactive' };
const OURS = { address: '192.0.2.10', port: 30000 };

const isPort = (v: unknown) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 65535;
const isPayloadType = (v: unknown) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 127;
const isPositiveInteger = (v: unknown) => Number.isInteger(v) && (v as number) > 0;
const isToken = (v: unknown) => typeof v === 'string' && /^\S+$/.test(v);
const show = (v: unknown) => (v === undefined ? 'undefined' : typeof v === 'number' ? String(v) : JSON.stringify(v));

function codecProblems(c: RtpCodec, formats: readonly string[], where: string): string[] {
  const out: string[] = [];
  if (!isPayloadType(c.payloadType)) out.push(`${where} payloadType ${show(c.payloadType)}`);
  else if (!formats.some((f) => Number(f) === c.payloadType)) out.push(`${where} payloadType ${c.payloadType} is not on the m-line`);
  if (typeof c.name !== 'string' || c.name === '') out.push(`${where} name ${show(c.name)}`);
  if (!isPositiveInteger(c.clockRate)) out.push(`${where} clockRate ${show(c.clockRate)}`);
  if (c.channels !== undefined && !isPositiveInteger(c.channels)) out.push(`${where} channels ${show(c.channels)}`);
  if (c.fmtp !== undefined && typeof c.fmtp !== 'string') out.push(`${where} fmtp ${show(c.fmtp)}`);
  return out;
}

/** What a ParsedSdp promises by its type and doc comments. */
function sdpProblems(p: ParsedSdp): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(p.origin)) if (typeof v !== 'string') out.push(`origin.${k} ${show(v)}`);
  p.media.forEach((m, i) => {
    if (typeof m.type !== 'string' || typeof m.protocol !== 'string') out.push(`media[${i}] type/protocol ${show(m.type)} ${show(m.protocol)}`);
    if (!isPort(m.port)) out.push(`media[${i}].port ${show(m.port)}`);
    if (!Array.isArray(m.formats) || !m.formats.every(isToken)) out.push(`media[${i}].formats ${show(m.formats)}`);
  });
  if (p.audioIndex !== p.media.findIndex((m) => m.type === 'audio')) out.push(`audioIndex ${p.audioIndex} is not the first audio m-line`);
  if ((p.audio !== undefined) !== p.audioIndex >= 0) out.push(`audio ${p.audio ? 'present' : 'absent'} with audioIndex ${p.audioIndex}`);
  const a = p.audio;
  const line = p.media[p.audioIndex];
  if (!a || !line) return out;
  if (typeof a.connectionAddress !== 'string' || /\s/.test(a.connectionAddress)) out.push(`audio.connectionAddress ${show(a.connectionAddress)}`);
  if (!Object.is(a.port, line.port) || a.protocol !== line.protocol) out.push(`audio port/protocol ${show(a.port)} ${show(a.protocol)} differ from the m-line`);
  a.codecs.forEach((c, i) => {
    out.push(...codecProblems(c, line.formats, `audio.codecs[${i}]`));
    if (c.name.toLowerCase() === 'telephone-event') out.push(`audio.codecs[${i}] is telephone-event`);
  });
  a.telephoneEvents.forEach((c, i) => {
    out.push(...codecProblems(c, line.formats, `audio.telephoneEvents[${i}]`));
    if (c.name.toLowerCase() !== 'telephone-event') out.push(`audio.telephoneEvents[${i}] is ${show(c.name)}`);
  });
  a.crypto.forEach((c, i) => {
    if (!Number.isSafeInteger(c.tag) || c.tag < 0 || !isToken(c.suite) || !isToken(c.keyParams) || !c.sessionParams.every(isToken)) out.push(`audio.crypto[${i}] ${show(c)}`);
  });
  if (a.ptime !== undefined && !(Number.isFinite(a.ptime) && a.ptime > 0)) out.push(`audio.ptime ${show(a.ptime)}`);
  if (!DIRECTIONS.includes(a.direction)) out.push(`audio.direction ${show(a.direction)}`);
  return out;
}

/** pickCodec's contract: the codec of the first preference the audio lists, or undefined when it lists none. */
function pickProblems(p: ParsedSdp, preferences: readonly CodecName[], pick = pickCodec): string[] {
  const audio = p.audio;
  if (!audio) return [];
  const picked = pick(audio, preferences);
  const first = preferences.find((n) => audio.codecs.some((c) => c.name.toLowerCase() === n.toLowerCase()));
  if (first === undefined) return picked === undefined ? [] : [`picked ${show(picked)} though no preference is offered`];
  if (!picked || !audio.codecs.includes(picked) || picked.name.toLowerCase() !== first.toLowerCase()) return [`picked ${show(picked)}, expected the offer's ${first}`];
  return [];
}

/** The answer parses again, as well-formed SDP with the offer's m-lines in place and our one codec. */
function answerProblems(offer: ParsedSdp, answer: ReturnType<typeof buildAnswer>, options: AnswerOptions): string[] {
  const out: string[] = [];
  const { codec, telephoneEvent: te, remote } = answer;
  const audio = offer.audio;
  if (!audio) return ['answered an offer without audio'];
  if (!CODECS.some((n) => n.toLowerCase() === codec.name.toLowerCase())) out.push(`codec ${show(codec.name)} is not one we know`);
  if (show(codec) !== show(pickCodec(audio, options.preferences))) out.push(`codec ${show(codec)} is not pickCodec's choice`);
  if (te && (te.clockRate !== codec.clockRate || !audio.telephoneEvents.some((t) => show(t) === show(te)))) out.push(`telephoneEvent ${show(te)} for ${show(codec)}`);
  if (remote.address !== audio.connectionAddress || remote.port !== audio.port || !isPort(remote.port) || remote.port === 0) out.push(`remote ${show(remote)}`);
  let again: ParsedSdp;
  try {
    again = parseSdp(answer.sdp);
  } catch (err) {
    return [...out, `the answer does not parse: ${String(err)}\n${answer.sdp}`];
  }
  out.push(...sdpProblems(again).map((p) => `answer ${p}`));
  if (show(again.media.map((m) => m.type)) !== show(offer.media.map((m) => m.type))) out.push(`answer m-lines ${show(again.media.map((m) => m.type))}`);
  if (again.audioIndex !== offer.audioIndex) out.push(`answer audioIndex ${again.audioIndex}`);
  again.media.forEach((m, i) => {
    if (m.port !== (i === offer.audioIndex ? OURS.port : 0)) out.push(`answer media[${i}].port ${m.port}`);
  });
  const ours = again.audio;
  if (!ours) return [...out, 'answer without audio'];
  if (ours.connectionAddress !== OURS.address) out.push(`answer address ${show(ours.connectionAddress)}`);
  if (show(ours.codecs.map((c) => [c.payloadType, c.name, c.clockRate])) !== show([[codec.payloadType, codec.name, codec.clockRate]])) out.push(`answer codecs ${show(ours.codecs)}`);
  if (show(ours.telephoneEvents.map((c) => c.payloadType)) !== show(te ? [te.payloadType] : [])) out.push(`answer telephone-events ${show(ours.telephoneEvents)}`);
  if (ours.direction !== MIRROR[audio.direction]) out.push(`answer direction ${ours.direction} to ${audio.direction}`);
  if (ours.protocol !== audio.protocol.toUpperCase()) out.push(`answer protocol ${ours.protocol} to ${audio.protocol}`);
  return out;
}

/** Payload type spellings a 7-bit RTP field (RFC 3550 §5.1) cannot carry, or that are not plain decimals. */
const AWKWARD_PAYLOAD_TYPES = ['128', '255', '300', '-1', '65536', '4294967296', '99999999999999999999', '1e2', '0x60', '96.5', '+96', '-0', '007', '127', '0'];

/** Renumbers one audio payload type everywhere it appears (m= line, rtpmap, fmtp), so the rtpmap still matches. */
function renumber(rng: Prng, sdp: string): string {
  const lines = sdp.split(/(?<=\n)/);
  const m = lines.findIndex((l) => l.startsWith('m=audio '));
  const tokens = (lines[m] ?? '').trimEnd().split(' ');
  const from = rng.pick(tokens.slice(3));
  const to = rng.pick(AWKWARD_PAYLOAD_TYPES);
  return lines
    .map((l, i) => {
      if (i === m) return l.replace(new RegExp(`(?<= )${from}(?=\\s)`), to);
      for (const prefix of ['a=rtpmap:', 'a=fmtp:']) if (l.startsWith(`${prefix}${from} `)) return `${prefix}${to}${l.slice(prefix.length + from.length)}`;
      return l;
    })
    .join('');
}

interface Case {
  sdp: string;
  options: AnswerOptions;
}

/** How the cases ended, so a run that refuses (or answers) everything shows up as a failure too. */
const tally = { parsed: 0, answered: 0 };

function check({ sdp, options }: Case): void {
  let parsed: ParsedSdp | undefined;
  try {
    parsed = parseSdp(sdp);
    tally.parsed++;
  } catch (err) {
    if (!(err instanceof SdpError)) throw err;
  }
  const problems = parsed ? [...sdpProblems(parsed), ...pickProblems(parsed, options.preferences)] : [];
  let answer: ReturnType<typeof buildAnswer> | undefined;
  try {
    answer = buildAnswer(sdp, options);
  } catch (err) {
    if (!(err instanceof SipError) || err.status !== 488 || !err.headers['warning']) throw err;
  }
  if (answer) tally.answered++;
  if (answer && !parsed) problems.push('an answer to an offer parseSdp refuses');
  if (answer && parsed) problems.push(...answerProblems(parsed, answer, options));
  if (problems.length > 0) throw new Error(problems.join('\n'));
}

/** Runs the cases and returns the failures with the share of cases that parsed and that were answered. */
function run(seed: number, cases: number, make: (rng: Prng, i: number) => Case) {
  tally.parsed = 0;
  tally.answered = 0;
  const failures = fuzz<Case>({ seed, cases, make, check });
  return { failures, parsed: tally.parsed / cases, answered: tally.answered / cases };
}

const options = (rng: Prng): AnswerOptions => ({ ...OURS, preferences: rng.pick(PREFERENCES), protocols: rng.pick(PROTOCOLS), sessionId: '7' });

describe('SDP helpers under mutated PBX SDP', () => {
  it('hold on the seeds themselves, which are all answered but the G.729-only one', () => {
    const all: AnswerOptions = { ...OURS, preferences: ['opus', 'G722', 'PCMA', 'PCMU'], protocols: ['RTP/AVP', 'RTP/SAVP'] };
    const answered = SEEDS.map((sdp) => {
      check({ sdp, options: all });
      try {
        return buildAnswer(sdp, all).codec.name;
      } catch (err) {
        return err instanceof SipError ? err.status : err;
      }
    });
    expect(answered).toEqual(['PCMA', 'PCMA', 488, 'PCMA', 'PCMU', 'opus', 'PCMA', 'PCMA', 'opus', 'PCMU', 'G722']);
  });

  it('its checks catch a NaN port, an out-of-range payload type and a wrong pick', () => {
    const good = parseSdp(SEEDS[1] as string);
    const audio = good.audio as NonNullable<ParsedSdp['audio']>;
    expect(sdpProblems({ ...good, media: [{ ...(good.media[0] as ParsedSdp['media'][number]), port: Number.NaN }] })).toEqual(['media[0].port NaN', 'audio port/protocol 6000 "RTP/AVP" differ from the m-line']);
    expect(sdpProblems({ ...good, audio: { ...audio, codecs: [{ payloadType: 300, name: 'PCMU', clockRate: 8000 }] } })).toEqual(['audio.codecs[0] payloadType 300']);
    expect(pickProblems(good, ['PCMA', 'PCMU'], (a) => a.codecs[0])).toEqual(['picked {"payloadType":0,"name":"PCMU","clockRate":8000}, expected the offer\'s PCMA']);
    expect(pickProblems(good, ['G722'], (a) => a.codecs[0])).toEqual(['picked {"payloadType":0,"name":"PCMU","clockRate":8000} though no preference is offered']);
    expect([pickProblems(good, ['PCMA', 'PCMU']), pickProblems(good, ['G722'])]).toEqual([[], []]);
  });

  it('parse to well-formed SDP or throw SdpError, pick by preference, and answer with SDP that parses again or 488 (3000 cases)', () => {
    const result = run(0x5dd_0001, 3000, (rng, i) => ({ sdp: mutateText(rng, SEEDS[i % SEEDS.length] as string, 4), options: options(rng) }));
    expect(result.failures).toEqual([]);
    // both ways out are taken: most mutants still parse, some are refused with SdpError, many are answered
    expect(result.parsed).toBeGreaterThan(0.5);
    expect(result.parsed).toBeLessThan(1);
    expect(result.answered).toBeGreaterThan(0.2);
  });

  it('keep the same contract when a payload type is renumbered out of range, rtpmap included (1000 cases)', () => {
    const result = run(0x5dd_0003, 1000, (rng, i) => ({ sdp: renumber(rng, SEEDS[i % SEEDS.length] as string), options: options(rng) }));
    expect(result.failures).toEqual([]);
    expect(result.parsed).toBe(1); // renumbering alone never makes SDP unparseable
    expect(result.answered).toBeGreaterThan(0.2);
  });

  it('keep the same contract under heavier mutation (1000 cases of up to 12 edits)', () => {
    const result = run(0x5dd_0002, 1000, (rng, i) => ({ sdp: mutateText(rng, SEEDS[i % SEEDS.length] as string, 12), options: options(rng) }));
    expect(result.failures).toEqual([]);
    expect(result.parsed).toBeGreaterThan(0.3);
    expect(result.parsed).toBeLessThan(1);
    expect(result.answered).toBeGreaterThan(0.1);
  });
});
