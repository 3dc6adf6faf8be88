import { InvalidCallRecordError } from './call-state.errors';
import { deriveTransitionPatch } from './call-record.derive';
import { assertPatchable, newCallId, parseCallRecord, toCallHash, type CallRecord } from './call-record.types';
import { redisKeys } from './keys';

const base: CallRecord = {
  callId: 'call_1',
  direction: 'inbound',
  state: 'offered',
  version: 3,
  createdAt: 1_700_000_000_000,
  updatedAt: 1_700_000_000_500,
  businessNumber: '15550001111',
  phoneNumberId: '100000000000001',
  waCallId: 'wacid.X',
};

describe('call record (de)serialisation', () => {
  it('a record survives the trip through a Redis hash of strings', () => {
    const hash = toCallHash({ ...base, answeredAt: 1_700_000_001_000, endedBy: 'pbx', userName: '' });
    expect(Object.values(hash).every((v) => typeof v === 'string')).toBe(true);
    expect(hash['version']).toBe('3');
    expect(parseCallRecord('call_1', hash)).toEqual({ ...base, answeredAt: 1_700_000_001_000, endedBy: 'pbx', userName: '' });
  });

  it('undefined fields are not written', () => {
    expect(toCallHash({ state: 'active', sipCallId: undefined })).toEqual({ state: 'active' });
  });

  it('reading rejects a hash with a bad state or a non-numeric version and names the fields', () => {
    const hash = { ...toCallHash(base), state: 'flying', version: 'three' };
    expect(() => parseCallRecord('call_1', hash)).toThrow(InvalidCallRecordError);
    expect(() => parseCallRecord('call_1', hash)).toThrow(/state.*version|version.*state/s);
  });

  it('reading drops fields it does not know', () => {
    const rec = parseCallRecord('call_1', { ...toCallHash(base), futureField: 'x' });
    expect(rec).not.toHaveProperty('futureField');
  });

  it('writing rejects unknown fields, fractional times and patches of immutable fields', () => {
    expect(() => toCallHash({ nope: 'x' } as unknown as CallRecord)).toThrow(TypeError);
    expect(() => toCallHash({ answeredAt: 1.5 })).toThrow(TypeError);
    expect(() => assertPatchable({ version: 4 })).toThrow(TypeError);
    expect(() => assertPatchable({ destination: 'sip:1@pbx' })).not.toThrow();
  });

  it('new call ids are unique and sort by creation time', () => {
    const a = newCallId(1_700_000_000_000);
    const b = newCallId(1_700_000_000_001);
    expect(a).toMatch(/^call_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(a < b).toBe(true);
    expect(newCallId(5)).not.toBe(newCallId(5));
  });
});

describe('fields implied by a transition', () => {
  it('entering active stamps answeredAt once', () => {
    expect(deriveTransitionPatch(base, { type: 'wa.accept-sent' }, 'active', 42)).toEqual({ answeredAt: 42 });
    expect(deriveTransitionPatch({ ...base, answeredAt: 7 }, { type: 'wa.answer' }, 'active', 42)).toEqual({});
  });

  it('entering ending records who ended the call and why, without overwriting a cause already set', () => {
    expect(deriveTransitionPatch(base, { type: 'wa.terminate', status: 'failed', errorCode: 138021 }, 'ending', 1)).toEqual({
      endedBy: 'wa',
      endCause: 'WhatsApp terminate: failed',
      waCause: 'failed (138021)',
    });
    expect(deriveTransitionPatch(base, { type: 'pbx.failed', cause: 'Busy Here', status: 486 }, 'ending', 1)).toEqual({
      endedBy: 'pbx',
      endCause: 'Busy Here',
      sipCause: '486 Busy Here',
    });
    expect(deriveTransitionPatch({ ...base, endedBy: 'api' }, { type: 'failed', cause: 'boom' }, 'ending', 1)).toEqual({ endCause: 'boom' });
  });

  it('entering ended stamps endedAt and the talk time (0 when never answered)', () => {
    expect(deriveTransitionPatch({ ...base, state: 'ending', answeredAt: 1000 }, { type: 'legs.released' }, 'ended', 6000)).toEqual({
      endedAt: 6000,
      durationMs: 5000,
    });
    expect(deriveTransitionPatch({ ...base, state: 'ending' }, { type: 'legs.released' }, 'ended', 6000)).toEqual({ endedAt: 6000, durationMs: 0 });
  });

  it('ids carried by events are copied when the record lacks them', () => {
    expect(deriveTransitionPatch(base, { type: 'pbx.dialing', sipCallId: 'abc@host' }, 'dialing-pbx', 1)).toEqual({ sipCallId: 'abc@host' });
    expect(deriveTransitionPatch(base, { type: 'wa.dialing', waCallId: 'wacid.Y' }, 'dialing-wa', 1)).toEqual({});
  });
});

describe('redis keys', () => {
  it('builds every key under the prefix as docs/ARCHITECTURE.md lists them', () => {
    const k = redisKeys('wagw');
    expect(k.call('call_1')).toBe('wagw:call:call_1');
    expect(k.activeCalls).toBe('wagw:calls:active');
    expect(k.endedCalls).toBe('wagw:calls:ended');
    expect(k.waCall('wacid.X')).toBe('wagw:wacall:wacid.X');
    expect(k.webhookSeen('wacid.X:connect')).toBe('wagw:webhooks:seen:wacid.X:connect');
    expect(k.webhookDeadLetter).toBe('wagw:webhooks:dead-letter');
    expect(k.permission('100', '1555')).toBe('wagw:perm:100:1555');
    expect(k.mediaInstance('media-1')).toBe('wagw:media:instance:media-1');
    expect(k.mediaOfCall('call_1')).toBe('wagw:media:call:call_1');
    expect(k.allPattern).toBe('wagw:*');
  });

  it('refuses empty parts and glob or whitespace characters', () => {
    expect(() => redisKeys('')).toThrow(TypeError);
    expect(() => redisKeys('wagw').call('')).toThrow(TypeError);
    expect(() => redisKeys('wagw').waCall('a b')).toThrow(TypeError);
    expect(() => redisKeys('wa*')).toThrow(TypeError);
  });
});
