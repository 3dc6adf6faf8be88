import {
  advertiseAddress,
  candidates,
  dtlsSetup,
  filterCandidates,
  isIceLite,
  sessionLevelIceLite,
  singleSsrcLine,
  ssrcs,
  whatsappSdpProblems,
  withDtlsSetup,
} from './sdp-rewrite';

const werift = [
  'v=0',
  'o=- 1 0 IN IP4 0.0.0.0',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111 126',
  'c=IN IP4 0.0.0.0',
  'a=candidate:1 1 udp 2116026367 127.0.0.1 40001 typ host generation 0',
  'a=candidate:2 1 udp 2116026367 192.0.2.2 40002 typ host generation 0',
  'a=candidate:3 1 udp 2116026367 2001:db8::1 40003 typ host generation 0',
  'a=candidate:4 1 tcp 1518280447 127.0.0.1 40004 typ host tcptype passive',
  'a=candidate:5 1 udp 1686052607 203.0.113.9 50000 typ srflx raddr 127.0.0.1 rport 40001',
  'a=end-of-candidates',
  'a=ice-ufrag:abcd',
  'a=ice-pwd:0123456789abcdef012345',
  'a=ice-lite',
  'a=fingerprint:sha-256 AA:BB',
  'a=setup:actpass',
  'a=mid:0',
  'a=rtcp-mux',
  'a=msid:stream track',
  'a=ssrc:1111 cname:abc',
  'a=ssrc:1111 msid:stream track',
  'a=rtpmap:111 opus/48000/2',
  'a=rtpmap:126 telephone-event/8000',
].join('\r\n') + '\r\n';

describe('SDP rewriting for the WhatsApp leg', () => {
  it('keeps only UDP IPv4 candidates of the bound address (and srflx candidates based on it)', () => {
    const out = filterCandidates(werift, '127.0.0.1');
    expect(candidates(out).map((c) => `${c.type} ${c.address}:${c.port}`)).toEqual(['host 127.0.0.1:40001', 'srflx 203.0.113.9:50000']);
    expect(out).toContain('a=end-of-candidates\r\n');
    expect(out.endsWith('\r\n')).toBe(true);
    expect(out).not.toContain('\n\n');
  });

  it('without an address filter keeps every UDP candidate, IPv6 included, and drops TCP', () => {
    expect(candidates(filterCandidates(werift)).map((c) => c.address)).toEqual(['127.0.0.1', '192.0.2.2', '2001:db8::1', '203.0.113.9']);
  });

  it('advertises the public address on host candidates, keeping ports', () => {
    const out = advertiseAddress(filterCandidates(werift, '127.0.0.1'), '198.51.100.7');
    expect(candidates(out).map((c) => `${c.address}:${c.port}`)).toEqual(['198.51.100.7:40001', '203.0.113.9:50000']);
    const all = candidates(advertiseAddress(filterCandidates(werift), '198.51.100.7')).map((c) => `${c.address}:${c.port}`);
    expect(all).toEqual(['198.51.100.7:40001', '198.51.100.7:40002', '2001:db8::1:40003', '203.0.113.9:50000']);
  });

  it('reads setup, ice-lite and SSRCs', () => {
    expect(dtlsSetup(werift)).toBe('actpass');
    expect(isIceLite(werift)).toBe(true);
    expect(ssrcs(werift)).toEqual([1111]);
    expect(dtlsSetup(withDtlsSetup(werift, 'passive'))).toBe('passive');
  });

  it('shapes a relay SDP: one a=ssrc with the given cname, no msid, session-level ice-lite', () => {
    const out = sessionLevelIceLite(singleSsrcLine(werift, 1111, 'WhatsAppAudioStream1'));
    const lines = out.split('\r\n');
    expect(lines.filter((l) => l.startsWith('a=ssrc:'))).toEqual(['a=ssrc:1111 cname:WhatsAppAudioStream1']);
    expect(lines.some((l) => l.startsWith('a=msid:'))).toBe(false);
    expect(lines.indexOf('a=ice-lite')).toBeLessThan(lines.findIndex((l) => l.startsWith('m=')));
    expect(lines.filter((l) => l === 'a=ice-lite')).toHaveLength(1);
  });

  it("names every Meta rule a gateway SDP breaks (§8 pitfall 3)", () => {
    expect(whatsappSdpProblems(werift, 'answer')).toEqual([
      'a=ice-lite present: the gateway must be a full ICE agent',
      'a=setup:actpass in an answer: the gateway must be the DTLS client (active)',
    ]);
    const good = withDtlsSetup(werift.replace('a=ice-lite\r\n', ''), 'active');
    expect(whatsappSdpProblems(good, 'answer')).toEqual([]);
    expect(whatsappSdpProblems(withDtlsSetup(good, 'actpass'), 'offer')).toEqual([]);
    expect(whatsappSdpProblems(good.replace(/a=fingerprint:.*\r\n/, ''), 'answer')).toEqual(['no a=fingerprint']);
  });
});
