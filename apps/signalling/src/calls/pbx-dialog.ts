import type { CallPatch } from '@wagw/call-state';
import type { DialogSnapshot, PendingInviteSnapshot } from '@wagw/sip';

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
