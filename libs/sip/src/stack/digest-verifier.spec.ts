import { parse, type SipMessage } from 'sip';
import { signRequest } from 'sip/digest';
import { DigestVerifier } from './digest-verifier';

function register(): SipMessage {
  const m = parse(
    ['REGISTER sip:gw.example SIP/2.0', 'Via: SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bK1', 'From: <sip:acme@gw.example>;tag=1', 'To: <sip:acme@gw.example>', 'Call-ID: r1', 'CSeq: 1 REGISTER', 'Contact: <sip:acme@192.0.2.7>', 'Content-Length: 0', '', ''].join('\r\n'),
  );
  if (!m) throw new Error('unparseable test message');
  return m;
}

describe('DigestVerifier.check (registrar, 401)', () => {
  const decision = { action: 'digest' as const, realm: 'gw.example', password: (u: string) => (u === 'acme' ? 's3cret' : undefined) };

  /** The request signed as `user` with `password` against a fresh challenge of `verifier`. */
  function answered(verifier: DigestVerifier, user: string, password: string): SipMessage {
    const request = register();
    const challenge = verifier.challenge(request, decision);
    signRequest({}, request, challenge, { user, password });
    return request;
  }

  it('tells a good answer from a wrong password, an unknown user, a stale nonce and no credentials', async () => {
    const verifier = new DigestVerifier();
    expect(await verifier.check(register(), decision)).toEqual({ outcome: 'absent' });
    expect(await verifier.check(answered(verifier, 'acme', 's3cret'), decision)).toEqual({ outcome: 'ok', username: 'acme' });
    expect(await verifier.check(answered(verifier, 'acme', 'guess'), decision)).toEqual({ outcome: 'bad-password', username: 'acme' });
    expect(await verifier.check(answered(verifier, 'root', 's3cret'), decision)).toEqual({ outcome: 'unknown-user', username: 'root' });
    // an answer to another verifier's challenge: its nonce is unknown here (a restart)
    expect(await new DigestVerifier().check(answered(verifier, 'acme', 's3cret'), decision)).toEqual({ outcome: 'stale', username: 'acme' });
  });
});
