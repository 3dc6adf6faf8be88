import { CALL_FAILURE_CATEGORIES, callFailureCategory, type CallFailureCategory, type FailureCdr } from './call-failure-category';

/** CDRs as the use cases write them (calls/*.use-case.ts, business-call-events.handler.ts) and their category. */
const CASES: ReadonlyArray<[string, FailureCdr, CallFailureCategory]> = [
  ['PBX busy (486)', { endedBy: 'pbx', endCause: 'PBX busy', sipCause: '486 Busy Here' }, 'busy'],
  ['ring timeout (the gateway cancels: 487, but the SIP layer says no-answer)', { endedBy: 'pbx', endCause: 'PBX no-answer', sipCause: '487 Request Terminated' }, 'no-answer'],
  ['PBX 408 from the failover inviter', { endedBy: 'pbx', endCause: 'PBX unreachable', sipCause: '408 Request Timeout' }, 'unreachable'],
  ['PBX 503', { endedBy: 'pbx', endCause: 'PBX unreachable', sipCause: '503 Service Unavailable' }, 'unreachable'],
  ['PBX answered 408 itself', { endedBy: 'pbx', endCause: 'PBX timeout', sipCause: '408 Request Timeout' }, 'unreachable'],
  ['PBX declined (603)', { endedBy: 'pbx', endCause: 'PBX declined', sipCause: '603 Decline' }, 'declined'],
  ['PBX refused with another final status', { endedBy: 'pbx', endCause: 'PBX rejected', sipCause: '404 Not Found' }, 'other'],
  ['PBX wants credentials we lack', { endedBy: 'pbx', endCause: 'PBX auth-failed', sipCause: '407 Proxy Authentication Required' }, 'error'],
  ["agent's phone busy", { endedBy: 'pbx', endCause: 'agent phone: PBX busy', sipCause: '486 Busy Here' }, 'busy'],
  ['PBX answered without SDP', { endedBy: 'pbx', endCause: 'PBX answered without SDP', sipCause: '200 without SDP' }, 'error'],
  ['a SIP status without a cause in words', { endedBy: 'pbx', endCause: 'something new', sipCause: '600 Busy Everywhere' }, 'busy'],
  ['WhatsApp user hung up while the PBX rang', { endedBy: 'wa', endCause: 'completed', waCause: 'completed' }, 'cancelled'],
  ['WhatsApp user rejected a business call', { endedBy: 'wa', endCause: 'the customer declined the call', waCause: 'completed' }, 'declined'],
  ['wa.rejected event', { endedBy: 'wa', endCause: 'rejected by the user', waCause: 'rejected' }, 'declined'],
  ['WhatsApp user let it ring out', { endedBy: 'wa', endCause: 'the customer did not answer (completed)', waCause: 'completed' }, 'no-answer'],
  ['WhatsApp terminate FAILED', { endedBy: 'wa', endCause: 'failed: 131000 Something went wrong', waCause: 'failed (131000)' }, 'error'],
  ['permission declined', { endedBy: 'wa', endCause: 'call permission declined by the user' }, 'permission'],
  ['permission reply declined', { endedBy: 'system', endCause: 'the customer declined the call permission request' }, 'permission'],
  ['permission request unanswered', { endedBy: 'system', endCause: 'the customer did not answer the call permission request in time' }, 'permission'],
  ['Meta 138006', { endedBy: 'system', endCause: 'WhatsApp refused the call: no approved call permission from the user' }, 'permission'],
  ['Meta 138012', { endedBy: 'system', endCause: 'WhatsApp call failed: daily cap of connected business-initiated calls reached for this user' }, 'permission'],
  ['WhatsApp media never connected', { endedBy: 'system', endCause: 'WhatsApp media failed: ICE/DTLS did not connect' }, 'media'],
  ['set-up exception', { endedBy: 'system', endCause: 'set-up failed: media request timed out' }, 'error'],
  ['Graph error on a PBX-originated call', { endedBy: 'system', endCause: 'WhatsApp call failed: connection error: check connection parameters' }, 'error'],
  ['no route', { endedBy: 'system', endCause: 'no PBX route for business number 15550001111' }, 'error'],
  ['after hours', { endedBy: 'system', endCause: 'after hours: 15550001111 is closed (business hours, Europe/Berlin)' }, 'other'],
  ['API hang-up before the answer', { endedBy: 'api', endCause: 'hung up through the API' }, 'cancelled'],
  ['PBX cancelled its own call', { endedBy: 'pbx', endCause: 'the PBX cancelled the call', sipCause: 'CANCEL' }, 'cancelled'],
  ['unexplained gateway end', { endedBy: 'system', endCause: 'legs.released' }, 'error'],
  ['no cause at all', {}, 'other'],
];

describe('callFailureCategory', () => {
  it.each(CASES)('%s', (_name, cdr, expected) => {
    expect(callFailureCategory(cdr)).toBe(expected);
  });

  it('only ever answers one of the bounded categories, whatever free text the CDR holds', () => {
    const texts = ['', 'x', 'PBX ', 'PBX zzz', 'PBX busy now', '999 odd', 'BYE (Q.850 16)', 'failed', 'call_01ABC', '486'];
    for (const endCause of texts) {
      for (const sipCause of texts) {
        for (const endedBy of ['wa', 'pbx', 'api', 'system', undefined] as const) {
          const cdr: FailureCdr = { endCause, sipCause, waCause: endCause, ...(endedBy ? { endedBy } : {}) };
          expect(CALL_FAILURE_CATEGORIES).toContain(callFailureCategory(cdr));
        }
      }
    }
  });
});
