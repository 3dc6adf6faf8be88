import { parseWebhook } from '@wagw/whatsapp';
import { businessAnswerSdp, businessOfferSdp } from '../../test/fake-user-media';
import { type TestCore, freshTestCore } from '../../test/core-harness';
import { uploadAnnouncement } from '../../test/media-upload';
import { ControlError } from './emulator.errors';
import { VOICEMAIL_NOT_ENABLED } from './voicemail.flow';

const WA_ID = '15552227777';
const OTHER_WA_ID = '15552226666';
const ACCEPT_WINDOW_MS = 30_000;

/** The voicemail block of reference §5.1, its announcement one the business uploaded. */
const voicemailBlock = (announcementMediaId: string) => ({
  status: 'ENABLED',
  triggers: ['REJECT', 'TIMEOUT'],
  audio: { default: { announcement_media_id: announcementMediaId, timeout_seconds: 20 } },
});

async function refusal(p: () => unknown): Promise<ControlError> {
  try {
    await p();
  } catch (err) {
    if (err instanceof ControlError) return err;
    throw err;
  }
  throw new Error('expected a ControlError');
}

describe('EmulatorCore: voicemail (reference §2.9, §5.1)', () => {
  let h: TestCore;
  let VOICEMAIL: ReturnType<typeof voicemailBlock>;

  freshTestCore((c) => {
    h = c;
    h.core.createUser(WA_ID, 'Jane');
    VOICEMAIL = voicemailBlock(uploadAnnouncement(h.core));
  }, { acceptWindowMs: ACCEPT_WINDOW_MS });

  const enableVoicemail = (block: Record<string, unknown> = VOICEMAIL): void => {
    h.core.updateSettings({ calling: { voicemail: block } });
  };
  const calls = (action: string, callId: string, sdp?: string): Promise<Record<string, unknown>> =>
    h.core.callsAction({ messaging_product: 'whatsapp', call_id: callId, action, ...(sdp ? { session: { sdp_type: 'answer', sdp } } : {}) });
  /** A user call the business rejects. */
  const rejectedCall = async (waId = WA_ID): Promise<string> => {
    const { waCallId } = await h.core.userCall(waId);
    await calls('reject', waCallId);
    return waCallId;
  };
  const voicemailBodies = (): unknown[] => h.transport.bodies.filter((b) => JSON.stringify(b).includes('"type":"audio"'));

  it('a voicemail on a call the business rejected is an inbound voice audio message whose id is the WACID, in Meta\'s shape', async () => {
    enableVoicemail();
    const waCallId = await rejectedCall();
    const before = h.transport.bodies.length;

    const result = h.core.leaveVoicemail(WA_ID);
    await h.core.webhooksIdle();

    expect(result).toEqual({ waCallId, mediaId: expect.stringMatching(/^[1-9]\d{15}$/), sha256: expect.stringMatching(/^[0-9a-f]{64}$/), fileSize: expect.any(Number) });
    expect(h.transport.bodies).toHaveLength(before + 1);
    expect(h.transport.signaturesValid.every(Boolean)).toBe(true);
    expect(h.transport.bodies.at(-1)).toEqual({
      object: 'whatsapp_business_account',
      entry: [
        {
          id: h.config.emulator.wabaId,
          changes: [
            {
              field: 'messages',
              value: {
                messaging_product: 'whatsapp',
                metadata: { display_phone_number: h.config.whatsapp.businessNumber, phone_number_id: h.config.whatsapp.phoneNumberId },
                contacts: [{ profile: { name: 'Jane' }, wa_id: WA_ID, user_id: h.core.users.get(WA_ID).bsuid }],
                messages: [
                  {
                    from: WA_ID,
                    from_user_id: h.core.users.get(WA_ID).bsuid,
                    id: waCallId,
                    timestamp: String(Math.floor(h.core.clock.now() / 1000)),
                    type: 'audio',
                    audio: { mime_type: 'audio/ogg; codecs=opus', sha256: result.sha256, id: result.mediaId, voice: true },
                  },
                ],
              },
            },
          ],
        },
      ],
    });
  });

  it("the gateway's parseWebhook reads the voicemail webhook as call.voicemail with the call, the caller and the media", async () => {
    enableVoicemail();
    const waCallId = await rejectedCall();
    const { mediaId } = h.core.leaveVoicemail(WA_ID, { waCallId });
    await h.core.webhooksIdle();

    const parsed = parseWebhook(h.transport.bodies.at(-1));
    expect(parsed.rejected).toEqual([]);
    expect(parsed.ignored).toEqual([]);
    expect(parsed.events).toEqual([
      {
        kind: 'call.voicemail',
        wabaId: h.config.emulator.wabaId,
        phoneNumberId: h.config.whatsapp.phoneNumberId,
        displayPhoneNumber: h.config.whatsapp.businessNumber,
        contactName: 'Jane',
        contactUsername: undefined,
        contactWaId: WA_ID,
        contactUserId: h.core.users.get(WA_ID).bsuid,
        waCallId,
        from: WA_ID,
        fromUserId: h.core.users.get(WA_ID).bsuid,
        timestamp: Math.floor(h.core.clock.now() / 1000),
        audio: { mediaId, mimeType: 'audio/ogg; codecs=opus', sha256: expect.stringMatching(/^[0-9a-f]{64}$/), url: undefined },
      },
    ]);
  });

  it("the voicemail goes on the call's timeline and detail, after the call's terminate in the delivery order", async () => {
    enableVoicemail();
    const waCallId = await rejectedCall();
    const { mediaId } = h.core.leaveVoicemail(WA_ID, { durationS: 45 });
    await h.core.webhooksIdle();

    const detail = h.core.callView(waCallId);
    expect(detail['voicemail']).toEqual({ mediaId, leftAt: expect.any(Number), durationS: 45, toneHz: 440 });
    expect((detail['timeline'] as { event: string }[]).map((e) => e.event)).toEqual(['user_called', 'business_rejected', 'terminated', 'voicemail_left']);
    expect((detail['timeline'] as { event: string; detail?: unknown }[]).at(-1)?.detail).toEqual({ mediaId, durationS: 45, trigger: 'REJECT' });
    expect(h.transport.types(waCallId)).toEqual(['call.connect', 'call.terminate', 'message.audio']);
    expect(h.core.webhookLog({ key: waCallId }).map((r) => r['kind'])).toEqual(['calls.connect', 'calls.terminate', 'messages.voicemail']);
  });

  it('a call nobody answered (accept window) or that the user hung up while it rang takes a TIMEOUT voicemail; the default duration is 12 s', async () => {
    enableVoicemail();
    const unanswered = await h.core.userCall(WA_ID);
    await jest.advanceTimersByTimeAsync(ACCEPT_WINDOW_MS);
    expect(h.core.leaveVoicemail(WA_ID).waCallId).toBe(unanswered.waCallId);

    const hungUp = await h.core.userCall(WA_ID);
    await calls('pre_accept', hungUp.waCallId, businessAnswerSdp());
    h.core.hangup(WA_ID);
    expect(h.core.leaveVoicemail(WA_ID).waCallId).toBe(hungUp.waCallId);
    expect(h.core.callView(hungUp.waCallId)['voicemail']).toMatchObject({ durationS: 12 });
    expect(h.core.lifecycle.find(unanswered.waCallId)?.timeline.at(-1)?.detail).toMatchObject({ trigger: 'TIMEOUT' });
  });

  it("without waCallId the user's most recent user-initiated call is taken, not a later business call", async () => {
    enableVoicemail();
    await rejectedCall();
    const newest = await rejectedCall();
    h.core.users.get(WA_ID).permissions.grantPermanent(h.core.clock.now());
    h.core.setBehaviour(WA_ID, { incomingCall: 'reject', answerAfterMs: 10 });
    await h.core.callsAction({ messaging_product: 'whatsapp', to: WA_ID, action: 'connect', session: { sdp_type: 'offer', sdp: businessOfferSdp() } });
    await jest.advanceTimersByTimeAsync(10);

    expect(h.core.leaveVoicemail(WA_ID).waCallId).toBe(newest);
  });

  it('GET settings returns the voicemail block, and the account_settings_update webhook carries it', async () => {
    enableVoicemail();
    await h.core.webhooksIdle();
    expect(h.core.getSettings()['calling']).toMatchObject({ status: 'ENABLED', voicemail: VOICEMAIL });
    const [update] = parseWebhook(h.transport.bodies.at(-1)).events;
    expect(update).toMatchObject({ kind: 'settings.update', calling: { raw: { voicemail: VOICEMAIL } } });
  });

  describe('refusals (no webhook is sent)', () => {
    afterEach(async () => {
      await h.core.webhooksIdle();
      expect(voicemailBodies()).toEqual([]);
    });

    it('an unknown user is not found', async () => {
      enableVoicemail();
      expect(await refusal(() => h.core.leaveVoicemail('15550000000'))).toMatchObject({ kind: 'not_found', message: 'no user 15550000000' });
    });

    it("a user without calls, an unknown waCallId, or another user's call is not found", async () => {
      enableVoicemail();
      expect(await refusal(() => h.core.leaveVoicemail(WA_ID))).toMatchObject({ kind: 'not_found', message: `user ${WA_ID} has placed no call` });
      expect(await refusal(() => h.core.leaveVoicemail(WA_ID, { waCallId: 'wacid.nope' }))).toMatchObject({ kind: 'not_found', message: `user ${WA_ID} has no call wacid.nope` });
      const othersCall = await rejectedCall(OTHER_WA_ID);
      expect(await refusal(() => h.core.leaveVoicemail(WA_ID, { waCallId: othersCall }))).toMatchObject({ kind: 'not_found', message: `user ${WA_ID} has no call ${othersCall}` });
    });

    it('a call that is still live is a conflict', async () => {
      enableVoicemail();
      const { waCallId } = await h.core.userCall(WA_ID);
      expect(await refusal(() => h.core.leaveVoicemail(WA_ID))).toMatchObject({
        kind: 'conflict',
        message: `call ${waCallId} is still live (ringing): a voicemail is left once the call has ended unanswered`,
      });
    });

    it('a call that was connected is a conflict, even after it ended', async () => {
      enableVoicemail();
      const { waCallId } = await h.core.userCall(WA_ID);
      await calls('accept', waCallId, businessAnswerSdp());
      h.core.hangup(WA_ID);
      expect(await refusal(() => h.core.leaveVoicemail(WA_ID))).toMatchObject({
        kind: 'conflict',
        message: expect.stringMatching(new RegExp(`^call ${waCallId} was connected \\(answered at .+\\): a voicemail is only left on a call that was not answered$`)),
      });
    });

    it('a business-initiated call is a conflict', async () => {
      enableVoicemail();
      h.core.users.get(WA_ID).permissions.grantPermanent(h.core.clock.now());
      h.core.setBehaviour(WA_ID, { incomingCall: 'reject', answerAfterMs: 10 });
      const res = await h.core.callsAction({ messaging_product: 'whatsapp', to: WA_ID, action: 'connect', session: { sdp_type: 'offer', sdp: businessOfferSdp() } });
      const waCallId = (res['calls'] as { id: string }[])[0]?.id as string;
      await jest.advanceTimersByTimeAsync(10);
      expect(await refusal(() => h.core.leaveVoicemail(WA_ID, { waCallId }))).toMatchObject({
        kind: 'conflict',
        message: `call ${waCallId} is business-initiated: a voicemail is only left on a call the user placed`,
      });
    });

    it('voicemail not ENABLED in the calling settings (absent or DISABLED) is a conflict naming the setting', async () => {
      await rejectedCall();
      expect(await refusal(() => h.core.leaveVoicemail(WA_ID))).toMatchObject({ kind: 'conflict', message: VOICEMAIL_NOT_ENABLED });
      enableVoicemail({ ...VOICEMAIL, status: 'DISABLED' });
      expect(await refusal(() => h.core.leaveVoicemail(WA_ID))).toMatchObject({
        kind: 'conflict',
        message: 'voicemail is not enabled in the calling settings (POST /<PHONE_NUMBER_ID>/settings calling.voicemail.status)',
      });
    });

    it('calling turned off after voicemail was enabled is a conflict', async () => {
      enableVoicemail();
      await rejectedCall();
      h.core.updateSettings({ calling: { status: 'DISABLED' } });
      expect(await refusal(() => h.core.leaveVoicemail(WA_ID))).toMatchObject({ kind: 'conflict', message: expect.stringMatching(/calling is DISABLED .* voicemail needs calling/) });
    });

    it('the ending must match a trigger: REJECT for a refused call, TIMEOUT (with timeout_seconds) for an unanswered one', async () => {
      enableVoicemail({ status: 'ENABLED', triggers: ['TIMEOUT'], audio: { default: { timeout_seconds: 10 } } });
      const rejected = await rejectedCall();
      expect(await refusal(() => h.core.leaveVoicemail(WA_ID))).toMatchObject({
        kind: 'conflict',
        message: `call ${rejected} was refused by the business (business_reject), but calling.voicemail.triggers does not include REJECT`,
      });
      enableVoicemail({ status: 'ENABLED', triggers: ['REJECT', 'TIMEOUT'] });
      const { waCallId } = await h.core.userCall(WA_ID);
      h.core.hangup(WA_ID);
      expect(await refusal(() => h.core.leaveVoicemail(WA_ID))).toMatchObject({
        kind: 'conflict',
        message: `call ${waCallId} was not answered (user_hangup), but calling.voicemail has TIMEOUT without audio.default.timeout_seconds, which counts as disabled`,
      });
    });

    it('a second voicemail on the same call is a conflict', async () => {
      enableVoicemail();
      const waCallId = await rejectedCall();
      const { mediaId } = h.core.leaveVoicemail(WA_ID);
      await h.core.webhooksIdle();
      h.transport.bodies.length = 0;
      expect(await refusal(() => h.core.leaveVoicemail(WA_ID))).toMatchObject({
        kind: 'conflict',
        message: `user ${WA_ID} already left a voicemail on call ${waCallId} (media ${mediaId})`,
      });
    });
  });

  it('reset forgets the calls (with their voicemails) and the voicemail settings', async () => {
    enableVoicemail();
    await rejectedCall();
    h.core.leaveVoicemail(WA_ID);
    await h.core.reset();
    h.core.createUser(WA_ID);
    expect(h.core.getSettings()['calling']).not.toHaveProperty('voicemail');
    expect(await refusal(() => h.core.leaveVoicemail(WA_ID))).toMatchObject({ kind: 'not_found', message: `user ${WA_ID} has placed no call` });
  });
});
