import type { CallRecord, CallRepository } from '@wagw/call-state';
import { silentLogger } from '@wagw/logging';
import type { VoicemailEvent } from '@wagw/whatsapp';
import { CrmEventBus } from '../events/crm-event-bus';
import type { CrmEvent } from '../events/crm-event.types';
import { VoicemailUseCase } from './voicemail.use-case';

const voicemail = {
  kind: 'call.voicemail',
  waCallId: 'wacid.VM',
  from: '15552223333',
  contactName: 'Ana',
  timestamp: 1_800_000_000,
  audio: { mediaId: '900000000000001', mimeType: 'audio/ogg; codecs=opus', sha256: 'ab', url: undefined },
} as unknown as VoicemailEvent;

/** A repository holding `record` (live or a CDR, by its WhatsApp id); amends are noted, or fail with `amendFails`. */
function setup(o: { record?: Partial<CallRecord>; amendFails?: boolean }) {
  const amended: [string, Partial<CallRecord>][] = [];
  const calls = {
    getByWaCallId: async (id: string) => (o.record?.waCallId === id ? o.record : null),
    amend: async (id: string, patch: Partial<CallRecord>) => {
      if (o.amendFails) throw new Error('Redis is down');
      amended.push([id, patch]);
    },
  } as unknown as CallRepository;
  const bus = new CrmEventBus(silentLogger());
  const events: CrmEvent[] = [];
  bus.subscribe((e) => void events.push(e));
  return { useCase: new VoicemailUseCase(calls, silentLogger(), bus), amended, events };
}

describe('VoicemailUseCase', () => {
  it("notes the media on the ended call's CDR and tells the CRM, with the call and the user", async () => {
    const { useCase, amended, events } = setup({ record: { callId: 'call_1', state: 'ended', waCallId: 'wacid.VM', userWaId: '15552223333', userName: 'Ana R.' } });
    await useCase.execute(voicemail);
    expect(amended).toEqual([['call_1', { voicemailMediaId: '900000000000001' }]]);
    expect(events.map((e) => [e.type, e.data])).toEqual([
      [
        'call.voicemail',
        { waCallId: 'wacid.VM', callId: 'call_1', waId: '15552223333', userName: 'Ana R.', mediaId: '900000000000001', mimeType: 'audio/ogg; codecs=opus', audioPath: '/v1/calls/call_1/voicemail' },
      ],
    ]);
  });

  it('announces a voicemail for a call the gateway no longer has, from the webhook alone', async () => {
    const { useCase, amended, events } = setup({});
    await useCase.execute(voicemail);
    expect(amended).toEqual([]);
    expect(events.map((e) => e.data)).toEqual([{ waCallId: 'wacid.VM', waId: '15552223333', userName: 'Ana', mediaId: '900000000000001', mimeType: 'audio/ogg; codecs=opus' }]);
  });

  it('still tells the CRM when the record cannot be amended', async () => {
    const { useCase, events } = setup({ record: { callId: 'call_1', waCallId: 'wacid.VM' }, amendFails: true });
    await useCase.execute(voicemail);
    expect(events.map((e) => e.type)).toEqual(['call.voicemail']);
  });
});
