import { ValidateIf } from 'class-validator';

/**
 * An optional request field: absent (undefined) skips its other validators, any present value is validated,
 * null included. class-validator's `IsOptional` also skips null, which would let `"field": null` through
 * unchecked to code that expects the field's type.
 */
export function IsOmittable(): PropertyDecorator {
  return ValidateIf((_object: object, value: unknown) => value !== undefined);
}
