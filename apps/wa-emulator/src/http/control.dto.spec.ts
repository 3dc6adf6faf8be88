import { ValidationPipe } from '@nestjs/common';
import { BehaviourDto, TapCallButtonDto } from './control.dto';

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
