import type { EmulatedCall } from './call.record';
import type { SimulatedUser } from './users.registry';
import type { DeliveryRecord } from './webhook.sender';

/** JSON views of domain state for the control API (times: epoch ms on the emulator clock unless noted). */

export function callSummary(call: EmulatedCall): Record<string, unknown> {
  return {
    waCallId: call.id,
    direction: call.direction,
    waId: call.waId,
    state: call.state,
    createdAt: call.createdAt,
    connectedAt: call.connectedAt ?? null,
    endedAt: call.endedAt ?? null,
    endReason: call.endReason ?? null,
    terminateStatus: call.terminateStatus ?? null,
    durationS: call.durationSeconds() ?? null,
  };
}

export function callDetail(call: EmulatedCall): Record<string, unknown> {
  let media: unknown = null;
  try {
    media = call.session.stats();
  } catch {
    // a closed session may refuse stats(); the detail view then shows none
  }
  return {
    ...callSummary(call),
    bizOpaqueCallbackData: call.bizOpaqueCallbackData ?? null,
    ctaPayload: call.ctaPayload ?? null,
    deeplinkPayload: call.deeplinkPayload ?? null,
    sdp: { offer: call.offerSdp ?? null, answer: call.answerSdp ?? null, preAccept: call.preAcceptSdp ?? null, accept: call.acceptSdp ?? null },
    media,
    voicemail: call.voicemail ?? null,
    timeline: call.timeline,
  };
}

export function userView(user: SimulatedUser, now: number, currentCall: EmulatedCall | undefined): Record<string, unknown> {
  const grant = user.permissions.current(now);
  const { day, week } = user.permissions.requestUsage(now);
  const cap = user.permissions.callCapUsage(now);
  return {
    waId: user.waId,
    name: user.name,
    userId: user.bsuid,
    state: currentCall ? `in_call:${currentCall.state}` : 'idle',
    behaviour: user.behaviour,
    permission: {
      status: grant.status,
      expiresAt: grant.status === 'temporary' ? grant.expiresAt : null,
      unansweredStreak: user.permissions.unansweredStreak,
      requestsLast24h: day.currentUsage,
      requestsLast7d: week.currentUsage,
      canRequest: user.permissions.canRequest(now),
      connectedBusinessCallsLast24h: cap.currentUsage,
    },
    currentCall: currentCall ? callSummary(currentCall) : null,
    pendingPermissionRequests: user.permissions.openRequests(now).map((r) => ({
      requestId: r.id,
      sentAt: r.sentAt,
      via: r.via,
      state: r.state,
      choice: r.choice ?? null,
    })),
    callButtons: user.callButtons.list().map((b) => ({
      messageId: b.messageId,
      displayText: b.displayText,
      bodyText: b.bodyText,
      payload: b.payload ?? null,
      ttlMinutes: b.ttlMinutes,
      sentAt: b.sentAt,
      expiresAt: b.expiresAt,
      expired: user.callButtons.isExpired(b, now),
    })),
  };
}

export function deliveryView(record: DeliveryRecord): Record<string, unknown> {
  let payload: unknown = record.body;
  try {
    payload = JSON.parse(record.body);
  } catch {
    // kept as text: the log shows exactly what was sent
  }
  return {
    seq: record.seq,
    key: record.key,
    kind: record.kind,
    copy: record.copy,
    state: record.state,
    attempts: record.attempts,
    enqueuedAt: record.enqueuedAt,
    deliveredAt: record.deliveredAt ?? null,
    signature: record.signature,
    payload,
  };
}
