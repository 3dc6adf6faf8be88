import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { SendCallButtonDto } from '../contacts/call-button.dto';
import { RequestPermissionDto } from '../permissions/permissions.controller';

/** What the global ValidationPipe does with a request body: transform, then validate (first failing field). */
function refusal<T extends object>(cls: new () => T, body: unknown): string | undefined {
  const errors = validateSync(plainToInstance(cls, body) as object, { whitelist: true, forbidNonWhitelisted: true });
  return errors[0]?.property;
}

describe('IsOmittable: optional request fields', () => {
  it('lets an absent field through and validates a present one', () => {
    expect(refusal(SendCallButtonDto, { bodyText: 'Call us' })).toBeUndefined();
    expect(refusal(SendCallButtonDto, { bodyText: 'Call us', displayText: 'Call billing', ttlMinutes: 60, payload: 'queue=billing' })).toBeUndefined();
    expect(refusal(SendCallButtonDto, { bodyText: 'Call us', displayText: 'x'.repeat(21) })).toBe('displayText');
  });

  it.each([['displayText'], ['ttlMinutes'], ['payload']])('refuses %s: null (IsOptional let it through to the Graph client, a 500)', (field) => {
    expect(refusal(SendCallButtonDto, { bodyText: 'Call us', [field]: null })).toBe(field);
  });

  it('refuses a permission request whose bodyText is null', () => {
    expect(refusal(RequestPermissionDto, {})).toBeUndefined();
    expect(refusal(RequestPermissionDto, { bodyText: null })).toBe('bodyText');
  });
});
