import type { CallPatch, CallRepository } from '@wagw/call-state';
import type { DialogSnapshot, IncomingInviteSnapshot, PendingInviteSnapshot, TargetRefreshEvent } from '@wagw/sip';
import type { LiveCall } from './call-runtime';

interface PbxSipLeg {
  readonly callId: string;
  dialogSnapshot(): DialogSnapshot | undefined;
  on(event: 'targetRefresh', listener: (e: TargetRefreshEvent) => void): unknown;
}

/**
 * The record field that keeps a PBX leg's established dialog (`pbxDialog`), so that another signalling
 * process can hang the PBX up (SipStack.byeFromSnapshot) should this one die with the call; nothing when the
 * leg has no dialog (not answered, or over already).
 */
export function pbxDialogPatch(leg: { dialogSnapshot(): DialogSnapshot | undefined } | undefined): Pick<CallPatch, 'pbxDialog'> {
  const snapshot = leg?.dialogSnapshot();
  return snapshot ? { pbxDialog: JSON.stringify(snapshot) } : {};
}

/**
 * The record field that keeps a ringing PBX leg's INVITE (`pbxInvite`), so that another signalling process
 * can CANCEL it (SipStack.cancelFromSnapshot) should this one die before the answer; nothing when the leg
 * does not ring (no provisional yet, answered, cancelled or over).
 */
export function pbxInvitePatch(leg: { pendingInviteSnapshot(): PendingInviteSnapshot | undefined } | undefined): Pick<CallPatch, 'pbxInvite'> {
  const snapshot = leg?.pendingInviteSnapshot();
  return snapshot ? { pbxInvite: JSON.stringify(snapshot) } : {};
}

/**
 * The record field that keeps a PBX call's INVITE (`pbxIncomingInvite`), so that another signalling process can
 * answer it 503 (SipStack.rejectFromSnapshot) should this one die before the WhatsApp user answers.
 */
export function pbxIncomingInvitePatch(leg: { incomingInviteSnapshot(): IncomingInviteSnapshot | undefined }): Pick<CallPatch, 'pbxIncomingInvite'> {
  const snapshot = leg.incomingInviteSnapshot();
  return snapshot ? { pbxIncomingInvite: JSON.stringify(snapshot) } : {};
}

/**
 * Keeps the recorded dialog current: when the PBX moves the call to another target (a re-INVITE or UPDATE
 * with another Contact), `pbxDialog` is written again, so a BYE from the record goes to the new target. A leg
 * the call was transferred away from records nothing (the record holds the new leg's dialog).
 */
export function recordPbxTargetRefreshes(calls: CallRepository, live: LiveCall, leg: PbxSipLeg | undefined): void {
  leg?.on('targetRefresh', () => {
    if (live.retiredSipCalls.has(leg.callId)) return;
    void calls.amend(live.callId, pbxDialogPatch(leg)).catch((err: unknown) => live.log.warn({ err }, 'PBX dialog not recorded after its target refresh'));
  });
}
