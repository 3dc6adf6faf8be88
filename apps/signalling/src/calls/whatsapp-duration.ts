import type { CallDirection, CallPatch } from '@wagw/call-state';

/** Meta bills a business-initiated call by its duration in pulses of this many seconds, rounded up (reference §6.4). */
export const BILLING_PULSE_S = 6;

/**
 * What the CDR notes of the duration in Meta's terminate webhook (present only for an answered call): the
 * duration in whole seconds (rounded up, as a pulse would be) and, for a business-initiated (`outbound`) call,
 * the pulses Meta bills; user-initiated calls are free, so theirs has none. A 56 s call is 10 pulses; 0 s, 0.
 */
export function whatsAppDurationPatch(direction: CallDirection, durationSeconds: number): Pick<CallPatch, 'waDurationS' | 'waBillablePulses'> {
  const seconds = Math.ceil(durationSeconds);
  return {
    waDurationS: seconds,
    ...(direction === 'outbound' ? { waBillablePulses: Math.ceil(durationSeconds / BILLING_PULSE_S) } : {}),
  };
}
