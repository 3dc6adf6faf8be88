/**
 * Small, line-based SDP edits and checks for the WhatsApp leg. The gateway never re-orders or re-encodes
 * SDP: it only removes candidate lines it must not advertise, rewrites a candidate's address to the public
 * one, and checks the rules Meta enforces (reference §6.1, §8 pitfall 3). Lines end in CRLF (RFC 8866 §5).
 */
export type DtlsSetup = 'active' | 'passive' | 'actpass' | 'holdconn';

export function sdpLines(sdp: string): string[] {
  return sdp.split(/\r?\n/).filter((l) => l.length > 0);
}

export function joinSdp(lines: readonly string[]): string {
  return `${lines.join('\r\n')}\r\n`;
}

export interface ParsedCandidate {
  line: string;
  address: string;
  port: number;
  type: string;
  transport: string;
}

/** `a=candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type> ...` (RFC 8839 §5.1). */
export function parseCandidateLine(line: string): ParsedCandidate | undefined {
  const m = /^a=candidate:\S+ \d+ (\S+) \d+ (\S+) (\d+) typ (\S+)/.exec(line);
  if (!m) return undefined;
  return { line, transport: (m[1] as string).toLowerCase(), address: m[2] as string, port: Number(m[3]), type: m[4] as string };
}

export function candidates(sdp: string): ParsedCandidate[] {
  return sdpLines(sdp)
    .map(parseCandidateLine)
    .filter((c): c is ParsedCandidate => c !== undefined);
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/**
 * Keeps only UDP candidates (Meta's relay is UDP-only). With `onlyAddress` (an IPv4 address) only host
 * candidates of that address stay, plus server-reflexive ones whose related address it is; without it,
 * every interface's IPv4 and IPv6 host candidates stay (Meta itself offers one of each, reference §6.1).
 */
export function filterCandidates(sdp: string, onlyAddress?: string): string {
  const lines = sdpLines(sdp).filter((line) => {
    const c = parseCandidateLine(line);
    if (!c) return true;
    if (c.transport !== 'udp') return false;
    if (!onlyAddress) return true;
    if (!IPV4.test(c.address)) return false;
    return c.type === 'host' ? c.address === onlyAddress : line.includes(` raddr ${onlyAddress} `);
  });
  return joinSdp(lines);
}

/** Advertises the IPv4 `publicAddress` instead of local IPv4 host addresses (1:1 NAT); duplicates are dropped. */
export function advertiseAddress(sdp: string, publicAddress: string): string {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const line of sdpLines(sdp)) {
    const c = parseCandidateLine(line);
    if (!c || c.type !== 'host' || !IPV4.test(c.address)) {
      lines.push(line);
      continue;
    }
    const key = `${publicAddress}:${c.port}`;
    if (seen.has(key)) continue;
    seen.add(key);
    lines.push(line.replace(` ${c.address} ${c.port} typ `, ` ${publicAddress} ${c.port} typ `));
  }
  return joinSdp(lines);
}

export function dtlsSetup(sdp: string): DtlsSetup | undefined {
  const m = /^a=setup:(\w+)/m.exec(sdp);
  return m ? (m[1] as DtlsSetup) : undefined;
}

export function isIceLite(sdp: string): boolean {
  return /^a=ice-lite\s*$/m.test(sdp);
}

export function hasFingerprint(sdp: string): boolean {
  return /^a=fingerprint:\S+ \S+/m.test(sdp);
}

/** SSRCs of the `a=ssrc` lines. */
export function ssrcs(sdp: string): number[] {
  return [...new Set([...sdp.matchAll(/^a=ssrc:(\d+) /gm)].map((m) => Number(m[1])))];
}

/** Replaces every `a=ssrc` line with one `a=ssrc:<ssrc> cname:<cname>` (WhatsApp's relay sends one). */
export function singleSsrcLine(sdp: string, ssrc: number, cname: string): string {
  const out: string[] = [];
  let placed = false;
  for (const line of sdpLines(sdp)) {
    if (!line.startsWith('a=ssrc:') && !line.startsWith('a=msid:')) {
      out.push(line);
      continue;
    }
    if (!placed && line.startsWith('a=ssrc:')) {
      out.push(`a=ssrc:${ssrc} cname:${cname}`);
      placed = true;
    }
  }
  return joinSdp(out);
}

/**
 * The problems an SDP the gateway sends to WhatsApp must not have (reference §6.1 and §8 pitfall 3):
 * `a=ice-lite` (we are a full agent), `a=setup:passive` in an answer or a missing fingerprint.
 */
export function whatsappSdpProblems(sdp: string, type: 'offer' | 'answer'): string[] {
  const problems: string[] = [];
  if (isIceLite(sdp)) problems.push('a=ice-lite present: the gateway must be a full ICE agent');
  const setup = dtlsSetup(sdp);
  if (type === 'answer' && setup !== 'active') problems.push(`a=setup:${setup ?? '(none)'} in an answer: the gateway must be the DTLS client (active)`);
  if (type === 'offer' && setup !== 'actpass') problems.push(`a=setup:${setup ?? '(none)'} in an offer: expected actpass`);
  if (!hasFingerprint(sdp)) problems.push('no a=fingerprint');
  if (sdp.includes('\\r\\n')) problems.push('escaped line endings');
  return problems;
}

/** Moves `a=ice-lite` to the session level (before the first m-line), where Meta's relay writes it. */
export function sessionLevelIceLite(sdp: string): string {
  const lines = sdpLines(sdp).filter((l) => l !== 'a=ice-lite');
  if (lines.length === sdpLines(sdp).length) return sdp;
  const firstMedia = lines.findIndex((l) => l.startsWith('m='));
  lines.splice(firstMedia < 0 ? lines.length : firstMedia, 0, 'a=ice-lite');
  return joinSdp(lines);
}

/** Replaces the `a=setup:` value (only for a simulator that must answer as a given DTLS role). */
export function withDtlsSetup(sdp: string, setup: DtlsSetup): string {
  return sdp.replace(/^a=setup:\w+$/gm, `a=setup:${setup}`);
}
