import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateBy,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { ACCOUNT_EVENTS, type AccountEventInput, CALLING_RESTRICTION_TYPES, type CallingRestrictionType, type RestrictionInput } from '../domain/account-events.flow';
import { GRAPH_FAULT_ACTIONS, GRAPH_FAULT_STATUSES, type GraphFailureRule, type GraphFaultAction, type GraphFaultStatus, type GraphFaultWhen } from '../domain/graph-faults';
import type { PermissionChoice } from '../domain/permission.book';
import type { UserBehaviour } from '../domain/users.registry';

/** Bodies of the control API (/emulator/*), validated by the global ValidationPipe (whitelist, forbid unknown). */

/**
 * The fields a client actually sent. DTO instances carry every declared field (ES2022 class fields), unset
 * ones as undefined, which must not overwrite stored values in a partial update.
 */
export function sentFields<T extends object>(dto: T): Partial<T> {
  return Object.fromEntries(Object.entries(dto).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export class CreateUserDto {
  @Matches(/^\d{6,15}$/, { message: 'waId must be 6-15 digits (E.164 without +)' })
  waId!: string;

  @IsOptional()
  @IsString()
  @MaxLength(100)
  name?: string;
}

export class UserCallDto {
  @IsOptional()
  @IsString()
  @MaxLength(512)
  ctaPayload?: string;

  @IsOptional()
  @IsString()
  @MaxLength(512)
  deeplinkPayload?: string;
}

export class TapCallButtonDto {
  /** The wamid of the button's message; omitted: the newest button the user received. */
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(512)
  messageId?: string;
}

export class VoicemailDto {
  /** The call to leave it on; omitted: the user's most recent user-initiated call. */
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(512)
  waCallId?: string;

  /** Length of the recording (default 12). */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(600)
  durationS?: number;

  /** The tone the recording holds (default 440). */
  @IsOptional()
  @IsInt()
  @Min(100)
  @Max(4000)
  toneHz?: number;
}

export class BehaviourDto implements Partial<UserBehaviour> {
  @IsOptional()
  @IsIn(['accept', 'reject', 'ignore'])
  incomingCall?: UserBehaviour['incomingCall'];

  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(600_000)
  answerAfterMs?: number;

  @IsOptional()
  @IsIn(['none', 'allow_once', 'always_allow', 'never_allow'])
  permissionRequest?: UserBehaviour['permissionRequest'];

  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(600_000)
  replyAfterMs?: number;

  @IsOptional()
  @IsBoolean()
  callButtons?: boolean;
}

export class PermissionReplyDto {
  @IsIn(['allow_once', 'always_allow', 'never_allow'])
  choice!: PermissionChoice;

  @IsOptional()
  @IsString()
  requestId?: string;

  @IsOptional()
  @IsBoolean()
  fromProfile?: boolean;
}

export class RevokeDto {
  @IsOptional()
  @IsBoolean()
  notify?: boolean;
}

export class ToneDto {
  @IsNumber()
  @Min(20)
  @Max(20_000)
  frequencyHz!: number;
}

export class WavDto {
  @IsString()
  @MinLength(1)
  path!: string;
}

export class DtmfDto {
  @Matches(/^[0-9*#A-D]+$/, { message: 'digits: 0-9, *, #, A-D' })
  digits!: string;

  @IsOptional()
  @IsInt()
  @Min(40)
  @Max(5000)
  durationMs?: number;
}

export class AnalysisQueryDto {
  @IsOptional()
  @Type(() => Number)
  @IsNumber()
  @Min(20)
  @Max(24_000)
  frequencyHz?: number;
}

export class ClockAdvanceDto {
  @IsInt()
  ms!: number;
}

/** One transient Graph failure rule (README "Fault switches"). */
export class GraphFailureDto implements GraphFailureRule {
  @IsOptional()
  @IsIn(GRAPH_FAULT_ACTIONS)
  action?: GraphFaultAction;

  @IsIn(GRAPH_FAULT_STATUSES)
  status!: GraphFaultStatus;

  @IsInt()
  @Min(1)
  @Max(10)
  count!: number;

  @IsIn(['before', 'after'])
  when!: GraphFaultWhen;

  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(3600)
  retryAfterS?: number;
}

export class FaultsDto {
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(10)
  duplicateCount?: number;

  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(600_000)
  delayMs?: number;

  @IsOptional()
  @IsBoolean()
  reorderNextCall?: boolean;

  /** Replaces the armed Graph failures; [] disarms them. */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(20)
  @ValidateNested({ each: true })
  @Type(() => GraphFailureDto)
  graphFailures?: GraphFailureDto[];
}

export class TemplateDto {
  @IsString()
  @MinLength(1)
  @MaxLength(512)
  name!: string;
}

export class GraphRequestQueryDto {
  @IsOptional()
  @IsString()
  action?: string;

  @IsOptional()
  @IsString()
  callId?: string;

  @IsOptional()
  @IsString()
  to?: string;

  @IsOptional()
  @IsString()
  mediaId?: string;
}

export class WebhookLogQueryDto {
  @IsOptional()
  @IsString()
  key?: string;

  @IsOptional()
  @IsString()
  kind?: string;
}

/** A field that only belongs to one `event` of the account event body. */
function OnlyForEvent(event: (typeof ACCOUNT_EVENTS)[number]): PropertyDecorator {
  return ValidateBy({
    name: 'onlyForEvent',
    validator: {
      validate: (_value, args) => (args?.object as { event?: unknown } | undefined)?.event === event,
      defaultMessage: (args) => `${args?.property ?? 'this field'} is only allowed with event ${event}`,
    },
  });
}

export class RestrictionDto implements RestrictionInput {
  @IsIn(CALLING_RESTRICTION_TYPES)
  type!: CallingRestrictionType;

  /** Seconds until it expires (emulator clock); omitted: until lifted. At most a year. */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(31_536_000)
  expiresInS?: number;
}

/**
 * POST /emulator/account/events: `ACCOUNT_RESTRICTION` with `restrictions` (replaces the current ones; `[]`
 * lifts them) or `ACCOUNT_VIOLATION` with `violationType` (reference §2.9). Each field only with its event.
 */
export class AccountEventDto {
  @IsIn(ACCOUNT_EVENTS)
  event!: (typeof ACCOUNT_EVENTS)[number];

  @ValidateIf((o: AccountEventDto) => o.event === 'ACCOUNT_RESTRICTION' || o.restrictions !== undefined)
  @OnlyForEvent('ACCOUNT_RESTRICTION')
  @IsArray()
  @ArrayMaxSize(CALLING_RESTRICTION_TYPES.length)
  @ArrayUnique((r: RestrictionDto) => r?.type, { message: 'restrictions must not name a type twice' })
  @ValidateNested({ each: true })
  @Type(() => RestrictionDto)
  restrictions?: RestrictionDto[];

  /** Meta's values look like `LOW_CALLING_QUALITY`, `USER_INITIATED_CALLS_LOW_PICKUP_RATE` (§2.9); others are sent as given. */
  @ValidateIf((o: AccountEventDto) => o.event === 'ACCOUNT_VIOLATION' || o.violationType !== undefined)
  @OnlyForEvent('ACCOUNT_VIOLATION')
  @IsString()
  @Matches(/^[A-Z][A-Z0-9_]{0,99}$/, { message: 'violationType must be an upper-case name such as LOW_CALLING_QUALITY (A-Z, 0-9, _; at most 100)' })
  violationType?: string;
}

/** The validated body as the domain's event (the DTO has made sure the event's own field is there). */
export function toAccountEventInput(dto: AccountEventDto): AccountEventInput {
  if (dto.event === 'ACCOUNT_VIOLATION') return { event: dto.event, violationType: dto.violationType ?? '' };
  return { event: dto.event, restrictions: (dto.restrictions ?? []).map((r) => (r.expiresInS === undefined ? { type: r.type } : { type: r.type, expiresInS: r.expiresInS })) };
}
