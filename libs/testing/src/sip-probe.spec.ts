import { buildOptionsRequest, parseFinalStatus } from './sip-probe';

describe('SIP OPTIONS probe', () => {
  it('builds a request with a magic-cookie branch and the transport in Via and Request-URI', () => {
    const req = buildOptionsRequest({ host: '127.0.0.1', port: 5070, transport: 'tcp' }, 40000);
    expect(req.startsWith('OPTIONS sip:127.0.0.1:5070;transport=tcp SIP/2.0\r\n')).toBe(true);
    expect(req).toMatch(/^Via: SIP\/2\.0\/TCP 127\.0\.0\.1:40000;branch=z9hG4bK[0-9a-f]+;rport\r$/m);
    expect(req).toMatch(/^CSeq: 1 OPTIONS\r$/m);
    expect(req.endsWith('Content-Length: 0\r\n\r\n')).toBe(true);
  });

  it('takes the first final status and skips provisional ones', () => {
    expect(parseFinalStatus('SIP/2.0 100 Trying\r\n\r\nSIP/2.0 404 Not Found\r\n\r\n')).toBe(404);
    expect(parseFinalStatus('SIP/2.0 100 Trying\r\n\r\n')).toBeUndefined();
  });
});
