import type { z } from 'zod';
import { describeIssues, formatPath } from '../zod-issues';
import type { WireContact, wireErrorSchema } from './wire-common.schema';
import type {
  ContactInfo,
  WebhookErrorInfo,
  WebhookEvent,
  WebhookIgnored,
  WebhookRejection,
  WebhookSource,
} from './webhook-events.types';

/** Where one `entry[].changes[]` element sits and which WABA it belongs to. */
export interface ChangeContext {
  /** JSON-path-like location of the change, e.g. `entry[0].changes[1]`. */
  path: string;
  wabaId: string | undefined;
  /** `entry[].time`, used when a value carries no timestamp of its own. */
  entryTime: number | undefined;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function joinPath(base: string, ...segments: PropertyKey[]): string {
  const tail = formatPath(segments);
  if (base === '') return tail;
  return tail.startsWith('[') ? base + tail : `${base}.${tail}`;
}

/** Collects the outcome of one parse: events, rejected items (with path and reason) and ignored items. */
export class ParseSink {
  readonly events: WebhookEvent[] = [];
  readonly rejected: WebhookRejection[] = [];
  readonly ignored: WebhookIgnored[] = [];

  emit(event: WebhookEvent): void {
    this.events.push(event);
  }

  reject(path: string, reason: string, raw: unknown): void {
    this.rejected.push({ path: path === '' ? '$' : path, reason, raw });
  }

  ignore(path: string, reason: string): void {
    this.ignored.push({ path: path === '' ? '$' : path, reason });
  }

  /** Validates `raw`; on failure records one rejection at `path` and returns undefined. */
  validate<S extends z.ZodType>(schema: S, raw: unknown, path: string): z.output<S> | undefined {
    const result = schema.safeParse(raw);
    if (result.success) return result.data;
    this.reject(path, describeIssues(result.error.issues), raw);
    return undefined;
  }
}

export function sourceOf(ctx: ChangeContext, metadata: { phone_number_id: string; display_phone_number?: string | undefined }): WebhookSource {
  return { wabaId: ctx.wabaId, phoneNumberId: metadata.phone_number_id, displayPhoneNumber: metadata.display_phone_number };
}

const NO_CONTACT: ContactInfo = { contactName: undefined, contactUsername: undefined, contactWaId: undefined, contactUserId: undefined };

/**
 * The `contacts[]` entry of the user an item is about: matched by phone (`wa_id`) or BSUID (`user_id`),
 * else the only entry when there is exactly one, else none.
 */
export function matchContact(
  contacts: readonly WireContact[],
  waIds: readonly (string | undefined)[],
  userIds: readonly (string | undefined)[],
): ContactInfo {
  const phones = new Set(waIds.filter((x): x is string => !!x));
  const bsuids = new Set(userIds.filter((x): x is string => !!x));
  const hit =
    contacts.find((c) => (c.wa_id !== undefined && phones.has(c.wa_id)) || (c.user_id !== undefined && bsuids.has(c.user_id))) ??
    (contacts.length === 1 ? contacts[0] : undefined);
  if (!hit) return NO_CONTACT;
  return {
    contactName: hit.profile?.name,
    contactUsername: hit.profile?.username,
    contactWaId: hit.wa_id,
    contactUserId: hit.user_id,
  };
}

export function toErrorInfo(e: z.output<typeof wireErrorSchema>): WebhookErrorInfo {
  return { code: e.code, title: e.title, message: e.message, href: e.href, details: e.error_data?.details };
}

/** A string-valued discriminator of a raw item, or undefined when absent or not a string. */
export function stringField(raw: unknown, key: string): string | undefined {
  if (!isRecord(raw)) return undefined;
  const v = raw[key];
  return typeof v === 'string' ? v : undefined;
}
