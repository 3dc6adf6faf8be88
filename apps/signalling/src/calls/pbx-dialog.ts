import type { CallPatch } from '@wagw/call-state';
import type { DialogSnapshot } from '@wagw/sip';

/**
 * The record field that keeps a PBX leg's established dialog (`pbxDialog`), so that another signalling
 * process can hang the PBX up (SipStack.byeFromSnapshot) should this one die with the call; nothing when the
 * leg has no dialog (not answered, or over already).
 */
export function pbxDialogPatch(leg: { dialogSnapshot(): DialogSnapshot | undefined } | undefined): Pick<CallPatch, 'pbxDialog'> {
  const snapshot = leg?.dialogSnapshot();
  return snapshot ? { pbxDialog: JSON.stringify(snapshot) } : {};
}
