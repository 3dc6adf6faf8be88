import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@wagw/config';
import { newCallId, type CallRecord, type CallRepository } from '@wagw/call-state';
import { refusalError } from '@wagw/permissions';
import { CALL_REPOSITORY, CONTACTS, SIGNALLING_INSTANCE_ID } from '../signalling.tokens';
import { PermissionService } from '../permissions/permission.service';
import { AgentDirectory, InvalidAgentError } from '../sip/agent-directory';
import type { ContactsRepository } from '../contacts/contacts.repository';
import { CallRuntime } from './call-runtime';
import { DialAgentUseCase } from './dial-agent.use-case';
import { EndCallUseCase } from './end-call.use-case';

export interface StartAgentCallInput {
  to: string;
  agent: string;
}

export type StartAgentCallResult = { started: 'now'; record: CallRecord } | { started: 'after-permission'; record: CallRecord; messageId: string };

/** `+15552223333`, `1 555 222 3333` -> `15552223333` (E.164 digits as WhatsApp writes them). */
export function normalizeWaId(to: string): string {
  const digits = to.replace(/[\s().-]/g, '').replace(/^\+/, '');
  if (!/^\d{6,15}$/.test(digits)) throw new InvalidAgentError(`to must be a phone number in E.164 (6-15 digits, + optional), got ${JSON.stringify(to)}`);
  return digits;
}

/**
 * The agent clicks "call" in the CRM (POST /v1/calls): with a grant the agent's phone rings now; without
 * one a permission request is sent and the call waits for the reply; declined or over quota -> refused
 * with the reason and when it frees up (reference §4).
 */
@Injectable()
export class StartAgentCallUseCase {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CALL_REPOSITORY) private readonly calls: CallRepository,
    private readonly permissions: PermissionService,
    private readonly agents: AgentDirectory,
    @Inject(CONTACTS) private readonly contacts: ContactsRepository,
    private readonly runtime: CallRuntime,
    private readonly dialAgent: DialAgentUseCase,
    private readonly endCall: EndCallUseCase,
    @Inject(SIGNALLING_INSTANCE_ID) private readonly instanceId: string,
  ) {}

  async execute(input: StartAgentCallInput): Promise<StartAgentCallResult> {
    const waId = normalizeWaId(input.to);
    const agent = this.agents.resolve(input.agent);
    const decision = await this.permissions.decideForCall(waId);
    if (decision.action === 'refuse') throw refusalError(decision);
    const callId = newCallId();
    const base = {
      callId,
      direction: 'outbound' as const,
      businessNumber: this.config.whatsapp.businessNumber,
      phoneNumberId: this.config.whatsapp.phoneNumberId,
      userWaId: waId,
      agent: agent.uri,
    };
    await this.contacts.touch(waId);
    if (decision.action === 'call') {
      const record = await this.calls.create({ ...base, state: 'dialing-pbx' });
      const live = this.runtime.open(callId, { direction: 'outbound' });
      live.log.info({ waId, agent: agent.uri, permission: decision.state }, 'agent call: permission granted, ringing the agent');
      void this.dialAgent.execute(callId);
      return { started: 'now', record };
    }
    await this.calls.create({ ...base, state: 'permission-pending' });
    const live = this.runtime.open(callId, { direction: 'outbound' });
    try {
      const { messageId } = await this.permissions.request(waId, { callId });
      await this.calls.apply(callId, { type: 'permission.requested', messageId }, { permissionMessageId: messageId });
      live.guard('permissionWaitMs', this.config.signalling.permissionWaitMs, () => void this.#permissionTimedOut(callId));
      live.log.info({ waId, agent: agent.uri, messageId }, 'agent call waits for the call permission reply');
      return { started: 'after-permission', record: (await this.calls.get(callId)) as CallRecord, messageId };
    } catch (err) {
      await this.endCall.execute(callId, { by: 'system', cause: `permission request failed: ${(err as Error).message}` });
      throw err;
    }
  }

  /**
   * Takes over a call of a lost signalling process that still waits for its permission reply (its creator
   * held only the wait's timer: the reply reaches any process through Redis): the call is recorded as this
   * process's, and the rest of the wait (signalling.permissionWaitMs from its creation) runs here. False when
   * the call moved on or another process took it meanwhile (the ownership is written only if unchanged).
   */
  async adopt(rec: CallRecord, lostInstance: string): Promise<boolean> {
    const mine = (c: CallRecord): boolean => c.state === 'permission-pending' && c.signallingInstance === lostInstance;
    if (!mine(rec)) return false;
    const written = await this.calls.amend(rec.callId, (current) => (mine(current) ? { signallingInstance: this.instanceId } : {}));
    if (written.state !== 'permission-pending' || written.signallingInstance !== this.instanceId) return false;
    const live = this.runtime.open(rec.callId, { direction: 'outbound' });
    const left = Math.max(0, written.createdAt + this.config.signalling.permissionWaitMs - Date.now());
    live.guard('permissionWaitMs', left, () => void this.#permissionTimedOut(rec.callId));
    live.log.warn({ lostInstance, waitLeftMs: left }, 'call waiting for its permission reply taken over from a lost signalling instance');
    return true;
  }

  /**
   * No permission reply in time: the call ends, unless it moved on meanwhile (the reply reached another
   * signalling process, which dials the agent; this timer knew nothing of it). The state machine judges
   * that in the same write as the end (`permission.expired`), so a reply landing just before cannot be lost.
   */
  async #permissionTimedOut(callId: string): Promise<void> {
    await this.endCall.execute(callId, { by: 'system', cause: 'the customer did not answer the call permission request in time', permissionExpired: true });
    // the reply moved the call on in another signalling process: this one held only the timer
    const rec = await this.calls.get(callId).catch(() => null);
    if (rec?.signallingInstance && rec.signallingInstance !== this.instanceId) this.runtime.dispose(callId);
  }
}
