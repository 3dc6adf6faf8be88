import type { CallPatch, CallRecord } from './call-record.types';
import type { CallEvent, CallState } from './call-state.machine';

/** Who ended the call and why, for an event that moves a call to `ending`. */
function endFields(event: CallEvent): Pick<CallPatch, 'endedBy' | 'endCause' | 'waCause' | 'sipCause'> {
  switch (event.type) {
    case 'wa.terminate': {
      const waCause = event.errorCode !== undefined ? `${event.status} (${event.errorCode})` : event.status;
      return { endedBy: 'wa', endCause: event.cause ?? `WhatsApp terminate: ${event.status}`, waCause };
    }
    case 'wa.rejected':
      return { endedBy: 'wa', endCause: 'rejected by the user', waCause: 'rejected' };
    case 'permission.declined':
      return { endedBy: 'wa', endCause: 'call permission declined by the user' };
    case 'pbx.failed':
      return { endedBy: 'pbx', endCause: event.cause, sipCause: event.status !== undefined ? `${event.status} ${event.cause}` : event.cause };
    case 'pbx.hangup':
      return { endedBy: 'pbx', endCause: event.cause, sipCause: event.cause };
    case 'hangup.requested':
      return { endedBy: event.by, endCause: event.cause };
    case 'failed':
    case 'permission.expired':
      return { endedBy: 'system', endCause: event.cause };
    default:
      return { endedBy: 'system', endCause: event.type };
  }
}

/** Identifiers some events carry, copied to the record when it does not have them yet. */
function idFields(record: CallRecord, event: CallEvent): CallPatch {
  if (event.type === 'pbx.dialing' && event.sipCallId && !record.sipCallId) return { sipCallId: event.sipCallId };
  if (event.type === 'wa.dialing' && event.waCallId && !record.waCallId) return { waCallId: event.waCallId };
  if (event.type === 'permission.requested' && event.messageId) return { permissionMessageId: event.messageId };
  return {};
}

/**
 * The record fields an applied transition implies, so every use case writes the CDR the same way:
 * `answeredAt` on entering `active`; end party and causes on entering `ending` (the first cause wins, later
 * ones are ignored events); `endedAt` and `durationMs` on entering `ended`; ids carried by the event.
 * Pure; a caller's own patch is merged over it.
 */
export function deriveTransitionPatch(record: CallRecord, event: CallEvent, to: CallState, now: number): CallPatch {
  const patch: CallPatch = { ...idFields(record, event) };
  if (to === 'active' && record.answeredAt === undefined) patch.answeredAt = now;
  if (to === 'ending' && record.state !== 'ending') {
    const end = endFields(event);
    for (const [k, v] of Object.entries(end) as [keyof typeof end, string][]) {
      if (record[k] === undefined) (patch as Record<string, string>)[k] = v;
    }
  }
  if (to === 'ended') {
    const endedAt = record.endedAt ?? now;
    patch.endedAt = endedAt;
    if (record.durationMs === undefined) patch.durationMs = record.answeredAt !== undefined ? Math.max(0, endedAt - record.answeredAt) : 0;
  }
  return patch;
}
