import { CALL_CAUSES, causeFromStatus, SipError, toSipStatus } from './sip.errors';

describe('causeFromStatus', () => {
  it.each([
    [486, 'busy'],
    [600, 'busy'],
    [603, 'declined'],
    [480, 'no-answer'],
    [408, 'timeout'],
    [487, 'cancelled'],
    [407, 'auth-failed'],
    [503, 'unreachable'],
    [404, 'rejected'],
    [302, 'rejected'],
  ] as const)('maps %i to %s', (status, cause) => {
    expect(causeFromStatus(status)).toBe(cause);
  });
});

describe('toSipStatus', () => {
  it('maps every call cause to a final failure status that maps back to the same cause where SIP has one', () => {
    for (const cause of CALL_CAUSES) {
      const { status, reason } = toSipStatus(cause);
      expect(status).toBeGreaterThanOrEqual(400);
      expect(reason).not.toBe('');
      if (cause !== 'auth-failed') expect(causeFromStatus(status)).toBe(cause);
    }
  });

  it('maps gateway causes and passes a SipError through', () => {
    expect(toSipStatus('unsupported-media')).toEqual({ status: 488, reason: 'Not Acceptable Here' });
    expect(toSipStatus('internal')).toEqual({ status: 500, reason: 'Server Internal Error' });
    expect(toSipStatus(new SipError(404, 'No Such Agent'))).toEqual({ status: 404, reason: 'No Such Agent' });
  });
});
