import { sipLegLost } from './sip-leg-lost';

describe('sipLegLost', () => {
  it("names the PBX's BYE with its Reason", () => {
    expect(sipLegLost({ by: 'remote', cause: 'bye' })).toEqual({ sipCause: 'BYE' });
    expect(sipLegLost({ by: 'remote', cause: 'bye', reason: { protocol: 'Q.850', cause: 16 } })).toEqual({ sipCause: 'BYE (Q.850 16)' });
  });

  it('reports an expired session timer with a cause of its own', () => {
    const lost = sipLegLost({ by: 'local', cause: 'session-expired', reason: { protocol: 'Q.850', cause: 102, text: 'Session timer expired' } });
    expect(lost).toEqual({ sipCause: 'session timer expired', cause: expect.stringContaining('RFC 4028') });
  });

  it('reports a reliable provisional never PRACKed (the stack rejected the INVITE)', () => {
    expect(sipLegLost({ by: 'local', cause: 'no-prack' })).toEqual({ sipCause: 'no PRACK', cause: expect.stringContaining('RFC 3262') });
  });

  it('ignores the ends we caused: our BYE, shutdown, and no-ack (handled where it applies)', () => {
    expect(sipLegLost({ by: 'local', cause: 'bye' })).toBeUndefined();
    expect(sipLegLost({ by: 'local', cause: 'shutdown' })).toBeUndefined();
    expect(sipLegLost({ by: 'local', cause: 'no-ack' })).toBeUndefined();
  });
});
