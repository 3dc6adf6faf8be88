import { AppError } from '@wagw/whatsapp';
import type { PermissionKey } from './permission-record.types';

/**
 * Typed errors of the permissions lib (STYLE §5): conditions a caller may handle carry a literal `code`.
 * Malformed inputs and options are bugs and throw TypeError instead.
 */

/** Base of every error of this lib a caller may handle. */
export abstract class PermissionError extends AppError {}

function describe(key: PermissionKey): string {
  return `${key.phoneNumberId}/${key.waId}`;
}

/** The compare-and-set kept losing: the record changed under every one of the bounded attempts. */
export class PermissionVersionConflictError extends PermissionError {
  readonly code = 'PERMISSION_VERSION_CONFLICT' as const;
  constructor(
    readonly key: PermissionKey,
    readonly attempts: number,
  ) {
    super(`permission record ${describe(key)} changed under each of ${attempts} attempts`);
  }
}

/** A stored hash that does not validate as a permission record (schema drift or a foreign writer). */
export class InvalidPermissionRecordError extends PermissionError {
  readonly code = 'INVALID_PERMISSION_RECORD' as const;
  constructor(
    readonly key: PermissionKey,
    readonly issues: string,
  ) {
    super(`stored permission record ${describe(key)} is invalid: ${issues}`);
  }
}

/** What a refusal of `decide()` carries; the errors below turn one into something a controller can throw. */
export interface RefusalDetails {
  reason: string;
  retryAt?: number;
}

abstract class PermissionRefusedError extends PermissionError {
  /** A sentence an agent can read. */
  readonly reason: string;
  /** Epoch ms after which trying again may succeed; absent when waiting does not help. */
  readonly retryAt: number | undefined;
  constructor(details: RefusalDetails) {
    super(details.reason);
    this.reason = details.reason;
    this.retryAt = details.retryAt;
  }
}

/** The user chose "never allow": no request is sent again until the user grants permission themselves. */
export class PermissionDeclinedError extends PermissionRefusedError {
  readonly code = 'PERMISSION_DECLINED' as const;
}

/** No permission, and the request quota (1 per 24 h, 2 per 7 days) is used up (an earlier request may still be unanswered). */
export class PermissionQuotaError extends PermissionRefusedError {
  readonly code = 'PERMISSION_QUOTA' as const;
}

/** Permission exists but the daily cap of connected business-initiated calls to this user is reached. */
export class DailyCallCapReachedError extends PermissionRefusedError {
  readonly code = 'DAILY_CALL_CAP' as const;
}

export type PermissionRefusalError = PermissionDeclinedError | PermissionQuotaError | DailyCallCapReachedError;
export type RefusalCode = PermissionRefusalError['code'];

/** The error class for a refusal code, so a use case can `throw refusalError(decision)`. */
export function refusalError(refusal: { code: RefusalCode } & RefusalDetails): PermissionRefusalError {
  const details: RefusalDetails = refusal.retryAt === undefined ? { reason: refusal.reason } : { reason: refusal.reason, retryAt: refusal.retryAt };
  switch (refusal.code) {
    case 'PERMISSION_DECLINED':
      return new PermissionDeclinedError(details);
    case 'PERMISSION_QUOTA':
      return new PermissionQuotaError(details);
    case 'DAILY_CALL_CAP':
      return new DailyCallCapReachedError(details);
  }
}
