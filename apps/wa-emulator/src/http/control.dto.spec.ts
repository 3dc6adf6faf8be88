import { ValidationPipe } from '@nestjs/common';
import { AccountEventDto, BehaviourDto, TapCallButtonDto, VoicemailDto, toAccountEventInput } from './control.dto';

/** The global pipe of bootstrap.ts: whitelist, forbid unknown fields, transform. */
const pipe = new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true });
const asBody = <T>(metatype: new () => T, value: unknown): Promise<T> => pipe.transform(value, { type: 'body', metatype }) as Promise<T>;

async function messages(promise: Promise<unknown>): Promise<string[]> {
  try {
    await promise;
  } catch (err) {
    return ((err as { getResponse(): { message: string[] } }).getResponse().message ?? []) as string[];
  }
  throw new Error('expected a validation error');
}

describe('control DTOs: call buttons', () => {
  it('tap-call-button takes an optional messageId; no body at all is a tap on the newest button', async () => {
    await expect(asBody(TapCallButtonDto, { messageId: 'wamid.abc' })).resolves.toMatchObject({ messageId: 'wamid.abc' });
    await expect(asBody(TapCallButtonDto, undefined)).resolves.toBeInstanceOf(TapCallButtonDto);
    expect((await asBody(TapCallButtonDto, {})).messageId).toBeUndefined();
  });

  it('tap-call-button refuses unknown fields and a messageId that is not a non-empty string', async () => {
    expect(await messages(asBody(TapCallButtonDto, { messageId: 'wamid.abc', payload: 'x' }))).toEqual(['property payload should not exist']);
    expect(await messages(asBody(TapCallButtonDto, { messageId: 42 }))).toEqual(expect.arrayContaining(['messageId must be a string']));
    expect(await messages(asBody(TapCallButtonDto, { messageId: '' }))).toEqual(['messageId must be longer than or equal to 1 characters']);
  });

  it('behaviour accepts callButtons as a boolean only', async () => {
    await expect(asBody(BehaviourDto, { callButtons: false })).resolves.toMatchObject({ callButtons: false });
    expect(await messages(asBody(BehaviourDto, { callButtons: 'no' }))).toEqual(['callButtons must be a boolean value']);
  });
});

describe('control DTOs: voicemail', () => {
  it('takes an optional waCallId and an optional whole durationS of 1-600; no body at all is fine', async () => {
    await expect(asBody(VoicemailDto, { waCallId: 'wacid.abc', durationS: 600 })).resolves.toMatchObject({ waCallId: 'wacid.abc', durationS: 600 });
    await expect(asBody(VoicemailDto, { durationS: 1 })).resolves.toMatchObject({ durationS: 1 });
    await expect(asBody(VoicemailDto, undefined)).resolves.toBeInstanceOf(VoicemailDto);
  });

  it('refuses a durationS outside 1-600 or not whole, an empty waCallId, and unknown fields', async () => {
    expect(await messages(asBody(VoicemailDto, { durationS: 0 }))).toEqual(['durationS must not be less than 1']);
    expect(await messages(asBody(VoicemailDto, { durationS: 601 }))).toEqual(['durationS must not be greater than 600']);
    expect(await messages(asBody(VoicemailDto, { durationS: 2.5 }))).toEqual(['durationS must be an integer number']);
    expect(await messages(asBody(VoicemailDto, { waCallId: '' }))).toEqual(['waCallId must be longer than or equal to 1 characters']);
    expect(await messages(asBody(VoicemailDto, { mediaId: '1' }))).toEqual(['property mediaId should not exist']);
  });

  it('takes an optional whole toneHz of 100-4000 and refuses anything else', async () => {
    await expect(asBody(VoicemailDto, { toneHz: 100 })).resolves.toMatchObject({ toneHz: 100 });
    await expect(asBody(VoicemailDto, { toneHz: 4000, durationS: 5 })).resolves.toMatchObject({ toneHz: 4000, durationS: 5 });
    expect((await asBody(VoicemailDto, {})).toneHz).toBeUndefined();
    expect(await messages(asBody(VoicemailDto, { toneHz: 99 }))).toEqual(['toneHz must not be less than 100']);
    expect(await messages(asBody(VoicemailDto, { toneHz: 4001 }))).toEqual(['toneHz must not be greater than 4000']);
    expect(await messages(asBody(VoicemailDto, { toneHz: 440.5 }))).toEqual(['toneHz must be an integer number']);
    expect(await messages(asBody(VoicemailDto, { toneHz: '440' }))).toEqual(expect.arrayContaining(['toneHz must be an integer number']));
  });
});

describe('control DTOs: account events', () => {
  it('accepts a restriction event (expiresInS optional) and a violation event, and turns them into domain events', async () => {
    const restriction = await asBody(AccountEventDto, {
      event: 'ACCOUNT_RESTRICTION',
      restrictions: [{ type: 'RESTRICTED_USER_INITIATED_CALLING', expiresInS: 3600 }, { type: 'RESTRICTED_USER_INITIATED_CALLING_CALL_BUTTON_HIDDEN' }],
    });
    expect(toAccountEventInput(restriction)).toEqual({
      event: 'ACCOUNT_RESTRICTION',
      restrictions: [{ type: 'RESTRICTED_USER_INITIATED_CALLING', expiresInS: 3600 }, { type: 'RESTRICTED_USER_INITIATED_CALLING_CALL_BUTTON_HIDDEN' }],
    });
    expect(toAccountEventInput(await asBody(AccountEventDto, { event: 'ACCOUNT_RESTRICTION', restrictions: [] }))).toEqual({ event: 'ACCOUNT_RESTRICTION', restrictions: [] });
    const violation = await asBody(AccountEventDto, { event: 'ACCOUNT_VIOLATION', violationType: 'LOW_CALLING_QUALITY' });
    expect(toAccountEventInput(violation)).toEqual({ event: 'ACCOUNT_VIOLATION', violationType: 'LOW_CALLING_QUALITY' });
  });

  it('refuses an unknown event, unknown fields, and unknown restriction types or fields', async () => {
    expect(await messages(asBody(AccountEventDto, { event: 'ACCOUNT_UPDATE' }))).toEqual([expect.stringMatching(/^event must be one of the following values: ACCOUNT_RESTRICTION, ACCOUNT_VIOLATION$/)]);
    expect(await messages(asBody(AccountEventDto, { event: 'ACCOUNT_RESTRICTION', restrictions: [], phone: '1' }))).toEqual(['property phone should not exist']);
    expect(await messages(asBody(AccountEventDto, { event: 'ACCOUNT_RESTRICTION', restrictions: [{ type: 'RESTRICTED_EVERYTHING' }] }))).toEqual([
      expect.stringMatching(/^restrictions\.0\.type must be one of the following values: RESTRICTED_USER_INITIATED_CALLING, /),
    ]);
    expect(await messages(asBody(AccountEventDto, { event: 'ACCOUNT_RESTRICTION', restrictions: [{ type: 'RESTRICTED_USER_INITIATED_CALLING', reason: 'x' }] }))).toEqual([
      'restrictions.0.property reason should not exist',
    ]);
  });

  it('expiresInS is a whole number of seconds, at least 1; a type may appear once', async () => {
    const body = (r: Record<string, unknown>[]) => asBody(AccountEventDto, { event: 'ACCOUNT_RESTRICTION', restrictions: r });
    expect(await messages(body([{ type: 'RESTRICTED_USER_INITIATED_CALLING', expiresInS: 0 }]))).toEqual(['restrictions.0.expiresInS must not be less than 1']);
    expect(await messages(body([{ type: 'RESTRICTED_USER_INITIATED_CALLING', expiresInS: 1.5 }]))).toEqual(['restrictions.0.expiresInS must be an integer number']);
    expect(await messages(body([{ type: 'RESTRICTED_USER_INITIATED_CALLING' }, { type: 'RESTRICTED_USER_INITIATED_CALLING', expiresInS: 5 }]))).toEqual([
      'restrictions must not name a type twice',
    ]);
  });

  it("each event needs its own field and refuses the other event's", async () => {
    expect(await messages(asBody(AccountEventDto, { event: 'ACCOUNT_RESTRICTION' }))).toEqual(expect.arrayContaining(['restrictions must be an array']));
    expect(await messages(asBody(AccountEventDto, { event: 'ACCOUNT_VIOLATION' }))).toEqual(expect.arrayContaining(['violationType must be a string']));
    expect(await messages(asBody(AccountEventDto, { event: 'ACCOUNT_VIOLATION', violationType: 'LOW_CALLING_QUALITY', restrictions: [] }))).toEqual([
      'restrictions is only allowed with event ACCOUNT_RESTRICTION',
    ]);
    expect(await messages(asBody(AccountEventDto, { event: 'ACCOUNT_RESTRICTION', restrictions: [], violationType: 'LOW_CALLING_QUALITY' }))).toEqual([
      'violationType is only allowed with event ACCOUNT_VIOLATION',
    ]);
    expect(await messages(asBody(AccountEventDto, { event: 'ACCOUNT_VIOLATION', violationType: 'low quality' }))).toEqual([expect.stringMatching(/^violationType must be an upper-case name/)]);
  });
});
