import type { Logger } from '@wagw/logging';
import { intOption, type ParsedArgs } from './cli-args';
import { CommandFailedError, UsageError } from './cli.errors';
import { HttpClient } from './http-client';
import { parseOptionsTarget, sendOneOptions } from './sip-options';
import { age, fieldLines, table } from './table';

/** What a command gets: its arguments, where to send requests, and where to write. */
export interface CommandContext {
  args: ParsedArgs;
  /** Positionals after the command name. */
  operands: string[];
  gateway(): HttpClient;
  emulator(): HttpClient;
  out(text: string): void;
  /** Writes a file the command produces (a voicemail). */
  writeFile(path: string, bytes: Buffer): Promise<void>;
  /** Reads a file the command is given (settings to apply, an announcement to upload). */
  readFile(path: string): Promise<Buffer>;
  logger: Logger;
  now(): number;
}

interface HostView {
  host: string;
  state: string;
  since: number;
  lastProbe?: { status: number; reason: string; rttMs: number };
  lastFailure?: { reason: string };
}
export interface TrunkView {
  name: string;
  transport: string;
  optionsIntervalMs: number;
  hosts: HostView[];
  /** SDES-SRTP policy toward the trunk (absent from gateways before it existed). */
  srtp?: string;
  /** Codecs offered to the trunk, in preference order (absent from gateways before it existed). */
  codecs?: string[];
  /** Calls at once on the trunk (0: no limit; absent from gateways before it existed) and how many are up now. */
  maxCalls?: number;
  channelsInUse?: number | null;
  /** Trunks the PBX registers to (registrar: true): where from, or null. */
  registration?: { source: { address: string; port: number }; registeredAt: number; expiresAt: number } | null;
  /** Trunks the gateway registers to (register: true): the state of that registration. */
  outboundRegistration?: { state: string; registrar?: string; registeredAt?: number; expiresAt?: number; lastStatus?: number; lastError?: string; nextAttemptAt?: number };
}
interface CallView {
  callId: string;
  state: string;
  direction: string;
  createdAt: number;
  userWaId?: string;
  destination?: string;
  agent?: string;
  waCallId?: string;
  endCause?: string;
}

/** GET /v1/calls/{id}: the call record, or the CDR once the call ended (the fields `call` prints). */
export interface CallDetail extends CallView {
  businessNumber?: string;
  userName?: string;
  redirectedTo?: string;
  /** Inbound: placed from a call button or a deep link, and its payload. */
  entryPoint?: string;
  entryPayload?: string;
  sipCallId?: string;
  codec?: string;
  pbxSrtp?: string;
  answeredAt?: number;
  endedAt?: number;
  durationMs?: number;
  endedBy?: string;
  waCause?: string;
  sipCause?: string;
  /** Meta's duration of the answered call, and the pulses it bills for a business-initiated one. */
  waDurationS?: number;
  waBillablePulses?: number;
  signallingInstance?: string;
  voicemailMediaId?: string;
  mediaMode?: string;
  waPacketsReceived?: number;
  waPacketsLost?: number;
  waJitterMs?: number;
  pbxPacketsReceived?: number;
  pbxPacketsLost?: number;
  pbxJitterMs?: number;
}

/** `1500 packets, 0.2 % lost, jitter 3 ms` of one side's stream, or undefined when the CDR has none. */
function receivedLine(packets: number | undefined, lost: number | undefined, jitterMs: number | undefined): string | undefined {
  if (packets === undefined) return undefined;
  const lostPct = lost !== undefined && packets + lost > 0 ? ((100 * lost) / (packets + lost)).toFixed(1) : '0.0';
  return `${packets} packets, ${lost ?? 0} lost (${lostPct} %), jitter ${jitterMs ?? 0} ms`;
}

function operand(ctx: CommandContext, index: number, what: string): string {
  const v = ctx.operands[index];
  if (!v) throw new UsageError(`missing ${what}`);
  return v;
}

function json(ctx: CommandContext, value: unknown): boolean {
  if (!ctx.args.flags.has('json')) return false;
  ctx.out(JSON.stringify(value, null, 2));
  return true;
}

export async function trunksCommand(ctx: CommandContext): Promise<void> {
  const { body } = await ctx.gateway().request<{ trunks: TrunkView[] }>('GET', '/v1/trunks');
  if (json(ctx, body)) return;
  if (body.trunks.length === 0) return ctx.out('no trunks configured (pbx.trunks)');
  const rows = body.trunks.flatMap((t) => [
    ...registrationRow(t, ctx.now()),
    ...t.hosts.map((h) => [
      t.name,
      h.host,
      t.transport,
      t.optionsIntervalMs > 0 ? h.state : 'not probed',
      age(h.since, ctx.now()),
      h.lastProbe ? `${h.lastProbe.status} ${h.lastProbe.reason} (${h.lastProbe.rttMs} ms)`.replace(/\s+\(/, ' (') : '-',
      h.lastFailure?.reason ?? '-',
      t.srtp ?? '-',
      codecsOf(t),
      callsOf(t),
    ]),
  ]);
  ctx.out(table(['TRUNK', 'HOST', 'TRANSPORT', 'STATE', 'SINCE', 'LAST OPTIONS', 'LAST FAILURE', 'SRTP', 'CODECS', 'CALLS'], rows));
}

/** Calls on a trunk with maxCalls as `in use/limit` (`?` when Redis did not answer); `-` without a limit. */
function callsOf(t: TrunkView): string {
  if (!t.maxCalls) return '-';
  return `${t.channelsInUse ?? '?'}/${t.maxCalls}`;
}

function codecsOf(t: TrunkView): string {
  return t.codecs?.join(',') ?? '-';
}

/**
 * A registering trunk's row: for a registrar trunk the address its PBX registered from (or that it is not
 * registered); for a trunk the gateway registers to, that registration (HOST `(gateway registers)`).
 */
export function registrationRow(t: TrunkView, now: number): string[][] {
  const out = t.outboundRegistration;
  if (out) {
    const media = [t.srtp ?? '-', codecsOf(t), callsOf(t)];
    const left = (at: number | undefined): string => `${Math.max(0, Math.round(((at ?? now) - now) / 1000))} s`;
    const state = out.state === 'registered' ? `registered, ${left(out.expiresAt)} left` : out.state === 'failed' ? `not registered, retry in ${left(out.nextAttemptAt)}` : out.state;
    const since = out.state === 'registered' && out.registeredAt ? age(out.registeredAt, now) : '-';
    return [[t.name, out.registrar ? `(gateway registers) ${out.registrar}` : '(gateway registers)', t.transport, state, since, '-', out.state === 'failed' ? (out.lastError ?? '-') : '-', ...media]];
  }
  if (t.registration === undefined) return [];
  const r = t.registration;
  const media = [t.srtp ?? '-', codecsOf(t), callsOf(t)];
  if (r === null) return [[t.name, '(PBX registers)', t.transport, 'not registered', '-', '-', '-', ...media]];
  return [[t.name, `${r.source.address}:${r.source.port}`, t.transport, `registered, ${Math.max(0, Math.round((r.expiresAt - now) / 1000))} s left`, age(r.registeredAt, now), '-', '-', ...media]];
}

/** Any final answer but 408/503 shows the host is there (the gateway's keep-alive rule). */
export async function optionsCommand(ctx: CommandContext): Promise<void> {
  const target = parseOptionsTarget(operand(ctx, 0, '<sip-uri|host:port>'), ctx.args.options.get('transport'));
  const timeoutMs = intOption(ctx.args, 'timeout-ms', 5000, 100, 32000);
  const r = await sendOneOptions(target, timeoutMs, ctx.logger);
  const silent = r.status === 408 && r.rttMs >= timeoutMs * 0.9;
  const alive = r.status >= 200 && r.status !== 408 && r.status !== 503;
  if (json(ctx, { target: target.uri, transport: target.transport, ...r, reachable: alive })) {
    if (!alive) throw new CommandFailedError(`${target.uri} is not reachable`);
    return;
  }
  const what = silent ? `no response within ${timeoutMs} ms` : `${r.status} ${r.reason}`.trim();
  const line = `${target.uri} over ${target.transport}: ${what}${silent ? '' : ` in ${r.rttMs} ms`}`;
  if (!alive) throw new CommandFailedError(`${line} (unreachable)`);
  ctx.out(line);
}

export async function callsCommand(ctx: CommandContext): Promise<void> {
  const { body } = await ctx.gateway().request<{ active: CallView[]; recent: CallView[] }>('GET', '/v1/calls');
  const all = ctx.args.flags.has('all');
  if (json(ctx, all ? body : { active: body.active })) return;
  const calls = all ? [...body.active, ...body.recent.filter((r) => !body.active.some((a) => a.callId === r.callId))] : body.active;
  if (calls.length === 0) return ctx.out(all ? 'no calls' : 'no active calls');
  const rows = calls.map((c) => [c.callId, c.state, c.direction, c.userWaId ?? '-', c.destination ?? c.agent ?? '-', age(c.createdAt, ctx.now()), c.endCause ?? '']);
  ctx.out(table(['CALL', 'STATE', 'DIRECTION', 'WHATSAPP USER', 'PBX SIDE', 'AGE', 'END CAUSE'], rows));
}

export async function testCallCommand(ctx: CommandContext): Promise<void> {
  const to = operand(ctx, 0, '<waId> (the WhatsApp user to call)');
  const agent = ctx.args.options.get('agent');
  if (!agent) throw new UsageError('missing --agent <extension or SIP URI>');
  const { status, body } = await ctx.gateway().request<CallView & { messageId?: string }>('POST', '/v1/calls', { to, agent });
  if (json(ctx, { status, ...body })) return;
  if (status === 202) ctx.out(`call ${body.callId}: permission requested from ${to}; the agent's phone rings once they allow calls`);
  else ctx.out(`call ${body.callId}: ringing agent ${agent}, then WhatsApp user ${to} (state ${body.state})`);
}

export async function emulatorCallCommand(ctx: CommandContext): Promise<void> {
  const waId = operand(ctx, 0, '<waId> (the simulated WhatsApp user)');
  const emu = ctx.emulator();
  const known = await emu.send('GET', `/emulator/users/${encodeURIComponent(waId)}`);
  if (known.status === 404) {
    await emu.request('POST', '/emulator/users', { waId, ...(ctx.args.options.has('name') ? { name: ctx.args.options.get('name') } : {}) });
  }
  const { body } = await emu.request<{ waCallId: string }>('POST', `/emulator/users/${encodeURIComponent(waId)}/call`, {});
  if (json(ctx, body)) return;
  ctx.out(`WhatsApp user ${waId} is calling the business: ${body.waCallId}`);
}

export async function reloadCommand(ctx: CommandContext): Promise<void> {
  const { body } = await ctx.gateway().request<{ applied: string[]; restartNeeded: string[]; trunks: number; routes: number }>('POST', '/v1/admin/reload');
  if (json(ctx, body)) return;
  ctx.out(body.applied.length > 0 ? `configuration reloaded: ${body.applied.join(', ')} applied (${body.trunks} trunks, ${body.routes} routes)` : 'configuration reloaded: no trunk or route change');
  if (body.restartNeeded.length > 0) ctx.out(`restart needed for: ${body.restartNeeded.join(', ')}`);
}

/** A call id or WhatsApp call id as one path segment. */
function callPath(ctx: CommandContext, suffix = ''): string {
  return `/v1/calls/${encodeURIComponent(operand(ctx, 0, '<callId|waCallId>'))}${suffix}`;
}

/** One call (by call id or WhatsApp call id): its record while it lasts, its CDR once it ended. */
export async function callCommand(ctx: CommandContext): Promise<void> {
  const { body } = await ctx.gateway().request<CallDetail>('GET', callPath(ctx));
  if (json(ctx, body)) return;
  ctx.out(callLines(body, ctx.now()));
}

/** `name: value` lines of the fields a call has, in the order an operator reads them. */
export function callLines(c: CallDetail, now: number): string {
  const when = (at: number | undefined): string | undefined => (at === undefined ? undefined : `${new Date(at).toISOString()} (${age(at, now)} ago)`);
  const user = c.userWaId ? `${c.userWaId}${c.userName ? ` (${c.userName})` : ''}` : undefined;
  const pbxSide = c.destination ?? c.agent;
  const rows: [string, string | undefined][] = [
    ['call', c.callId],
    ['state', c.state],
    ['direction', c.direction],
    ['WhatsApp user', user],
    ['business number', c.businessNumber],
    ['placed from', c.entryPoint ? `${c.entryPoint === 'call_button' ? 'call button' : c.entryPoint === 'deep_link' ? 'deep link' : c.entryPoint}${c.entryPayload ? ` (payload ${c.entryPayload})` : ''}` : undefined],
    ['PBX side', pbxSide ? `${pbxSide}${c.redirectedTo ? ` (redirected to ${c.redirectedTo})` : ''}` : undefined],
    ['WhatsApp call id', c.waCallId],
    ['SIP Call-ID', c.sipCallId],
    ['codec', c.codec ? `${c.codec}${c.pbxSrtp ? ` (SRTP ${c.pbxSrtp})` : ''}` : undefined],
    ['created', when(c.createdAt)],
    ['answered', when(c.answeredAt)],
    ['ended', when(c.endedAt)],
    ['talk time', c.answeredAt !== undefined && c.durationMs !== undefined ? `${Math.round(c.durationMs / 1000)} s` : undefined],
    ['WhatsApp duration', c.waDurationS !== undefined ? `${c.waDurationS} s${c.waBillablePulses !== undefined ? ` (${c.waBillablePulses} billed 6-second pulses)` : ''}` : undefined],
    ['ended by', c.endedBy],
    ['end cause', c.endCause],
    ['WhatsApp cause', c.waCause],
    ['SIP cause', c.sipCause],
    ['held by', c.state === 'ended' ? undefined : c.signallingInstance],
    ['voicemail', c.voicemailMediaId ? `media ${c.voicemailMediaId} (wagw voicemail ${c.callId})` : undefined],
    ['media', c.mediaMode],
    ['from WhatsApp', receivedLine(c.waPacketsReceived, c.waPacketsLost, c.waJitterMs)],
    ['from the PBX', receivedLine(c.pbxPacketsReceived, c.pbxPacketsLost, c.pbxJitterMs)],
  ];
  return fieldLines(rows.filter((r): r is [string, string] => r[1] !== undefined && r[1] !== ''));
}

/**
 * Saves the voicemail the user left after a call (GET /v1/calls/{id}/voicemail, fetched from Meta by the
 * gateway) to `--out` or `voicemail-<callId>.<ext>` as the gateway names it, and says where.
 */
export async function voicemailCommand(ctx: CommandContext): Promise<void> {
  const path = callPath(ctx, '/voicemail');
  const got = await ctx.gateway().download(path);
  const named = /filename="([A-Za-z0-9._-]+)"/.exec(got.headers.get('content-disposition') ?? '')?.[1];
  const file = ctx.args.options.get('out') ?? named ?? `voicemail-${(ctx.operands[0] ?? '').replace(/[^A-Za-z0-9._-]/g, '_')}.ogg`;
  await ctx.writeFile(file, got.bytes);
  const media = got.headers.get('x-wa-media-id');
  const facts = { file, bytes: got.bytes.length, contentType: got.contentType, mediaId: media ?? undefined };
  if (json(ctx, facts)) return;
  ctx.out(`saved ${got.bytes.length} bytes of ${got.contentType ?? 'audio'}${media ? ` (Meta media ${media})` : ''} to ${file}`);
}

/** Pages `cdrs` follows at most (1,000 CDRs each: 100,000; a gateway whose signalling.cdrMax keeps more is exported window by window). */
const MAX_CDR_PAGES = 100;

/**
 * Exports CDRs as CSV (GET /v1/cdrs?format=csv), following the pages to the last: one header line, then the
 * CDRs oldest first, to `--out` (and says how many) or to standard output. `--since`/`--until` as the API
 * takes them (epoch ms, ISO 8601 with zone, or a date).
 */
export async function cdrsCommand(ctx: CommandContext): Promise<void> {
  const params = new URLSearchParams({ format: 'csv', limit: '1000' });
  for (const name of ['since', 'until']) {
    const value = ctx.args.options.get(name);
    if (value !== undefined) params.set(name, value);
  }
  let csv = '';
  let count = 0;
  for (let page = 0; ; page++) {
    if (page === MAX_CDR_PAGES) throw new CommandFailedError(`more than ${MAX_CDR_PAGES} pages of CDRs: narrow --since/--until`);
    const got = await ctx.gateway().download(`/v1/cdrs?${params.toString()}`);
    const text = got.bytes.toString('utf8');
    // every page starts with the header line (no quoted field in it): kept once
    csv += page === 0 ? text : text.slice(text.indexOf('\r\n') + 2);
    count += Number(got.headers.get('x-cdr-count') ?? 0);
    const next = got.headers.get('x-next-cursor');
    if (!next) break;
    params.set('after', next);
  }
  const file = ctx.args.options.get('out');
  if (!file) return ctx.out(csv.replace(/\r\n$/, ''));
  await ctx.writeFile(file, Buffer.from(csv, 'utf8'));
  if (json(ctx, { file, cdrs: count })) return;
  ctx.out(`wrote ${count} CDR${count === 1 ? '' : 's'} to ${file}`);
}

interface WhatsAppSettingsView {
  phoneNumberId: string;
  calling: Record<string, unknown>;
  restrictions: { type: string; reason?: string; expiresAt?: number }[];
  advice: { level: string; code: string; message: string }[];
}

/**
 * The business number's calling settings at Meta with the gateway's advice (GET /v1/admin/whatsapp-settings),
 * or, with `--file`, changes them first (POST): the file holds `{"calling": {...}}` or the calling block alone,
 * in Meta's snake_case.
 */
export async function whatsappSettingsCommand(ctx: CommandContext): Promise<void> {
  const file = ctx.args.options.get('file');
  let view: WhatsAppSettingsView;
  if (file === undefined) {
    view = (await ctx.gateway().request<WhatsAppSettingsView>('GET', '/v1/admin/whatsapp-settings')).body;
  } else {
    let parsed: unknown;
    try {
      parsed = JSON.parse((await ctx.readFile(file)).toString('utf8'));
    } catch (err) {
      throw new UsageError(`--file ${file}: ${(err as Error).message}`);
    }
    const block = (parsed as { calling?: unknown } | null)?.calling ?? parsed;
    if (typeof block !== 'object' || block === null || Array.isArray(block)) throw new UsageError(`--file ${file}: expected a JSON object, {"calling": {...}} or the calling block itself`);
    view = (await ctx.gateway().request<WhatsAppSettingsView>('POST', '/v1/admin/whatsapp-settings', { calling: block })).body;
  }
  if (json(ctx, view)) return;
  const c = view.calling;
  const at = (o: unknown, key: string): unknown => (typeof o === 'object' && o !== null ? (o as Record<string, unknown>)[key] : undefined);
  const rows: [string, string | undefined][] = [
    ['phone number id', view.phoneNumberId],
    ['calling', str(c['status'])],
    ['call icon', str(c['call_icon_visibility'])],
    ['call hours', str(at(c['call_hours'], 'status'))],
    ['callback requests', str(c['callback_permission_status'])],
    ['voicemail', str(at(c['voicemail'], 'status'))],
    ['SIP mode', str(at(c['sip'], 'status'))],
  ];
  const lines = [fieldLines(rows.filter((r): r is [string, string] => r[1] !== undefined))];
  for (const a of view.advice) lines.push(`${a.level === 'warning' ? 'WARNING' : 'note'}: ${a.message}`);
  if (view.advice.length === 0) lines.push('nothing to note: calls can come in and go out');
  ctx.out(lines.join('\n'));
}

/**
 * Uploads a voicemail announcement (an Ogg Opus file under 60 s) to Meta through the gateway
 * (POST /v1/admin/whatsapp-voicemail-announcement); `--apply` also names it in the voicemail settings.
 */
export async function voicemailAnnouncementCommand(ctx: CommandContext): Promise<void> {
  const file = operand(ctx, 0, '<file.ogg> (the announcement, Ogg Opus under 60 s)');
  let bytes: Buffer;
  try {
    bytes = await ctx.readFile(file);
  } catch (err) {
    throw new UsageError(`${file}: ${(err as Error).message}`);
  }
  const apply = ctx.args.flags.has('apply');
  const { body } = await ctx.gateway().upload<{ mediaId: string; durationS: number; applied: boolean }>(`/v1/admin/whatsapp-voicemail-announcement${apply ? '?apply=true' : ''}`, bytes, 'audio/ogg');
  if (json(ctx, body)) return;
  ctx.out(
    `announcement uploaded: media ${body.mediaId} (${body.durationS.toFixed(1)} s)${body.applied ? '; the voicemail settings name it now' : `; name it in calling.voicemail.audio.default.announcement_media_id, or upload again with --apply`}`,
  );
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** Hangs a call up (every leg released) and prints how it ended. */
export async function hangupCommand(ctx: CommandContext): Promise<void> {
  const { body } = await ctx.gateway().request<CallDetail>('POST', callPath(ctx, '/hangup'));
  if (json(ctx, body)) return;
  if (body.state !== 'ended') return ctx.out(`call ${body.callId} is ${body.state}: its legs are being released`);
  const talk = body.answeredAt !== undefined && body.durationMs !== undefined ? `, talk time ${Math.round(body.durationMs / 1000)} s` : ', never answered';
  ctx.out(`call ${body.callId} ended (by ${body.endedBy ?? 'unknown'}: ${body.endCause ?? 'no cause recorded'})${talk}`);
}

/** Blind transfer of an active call's desk-phone side; the outcome comes as a CRM event. */
export async function transferCommand(ctx: CommandContext): Promise<void> {
  const path = callPath(ctx, '/transfer');
  const to = operand(ctx, 1, '<extension|sip-uri> (where the desk-phone side goes)');
  const { body } = await ctx.gateway().request<{ callId: string; to: string; heldBy?: string }>('POST', path, { to });
  if (json(ctx, body)) return;
  const where = body.heldBy ? ` by signalling process ${body.heldBy}, which holds the call` : '';
  ctx.out(`transfer of call ${body.callId} to ${body.to} started${where}; the outcome comes as call.transferred or call.transfer_failed (GET /v1/events)`);
}

/** GET /v1/permissions/{waId}: what the agent console shows of a user's call permission. */
export interface PermissionDetail {
  waId: string;
  businessNumber: string;
  state: string;
  expiresAt?: number;
  quota: { canRequest: boolean; left24h: number; left7d: number; blockedByMetaUntil?: number; nextRequestAt?: number };
  dailyCap: { canCall: boolean; used: number; blockedByMetaUntil?: number; nextCallAt?: number };
  decision: { action: 'call' | 'request' | 'refuse'; state: string; reason?: string; code?: string; retryAt?: number; nextRequestAt?: number; expiresAt?: number };
}

/** A WhatsApp user's call permission: its state, what an agent's call would do now, and the quotas left. */
export async function permissionCommand(ctx: CommandContext): Promise<void> {
  const waId = operand(ctx, 0, '<waId> (the WhatsApp user)');
  const { body } = await ctx.gateway().request<PermissionDetail>('GET', `/v1/permissions/${encodeURIComponent(waId)}`);
  if (json(ctx, body)) return;
  ctx.out(permissionLines(body));
}

export function permissionLines(p: PermissionDetail): string {
  const at = (ms: number | undefined): string => (ms === undefined ? '' : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z'));
  const d = p.decision;
  const now =
    d.action === 'call'
      ? 'placed at once (permission granted)'
      : d.action === 'request'
        ? 'a call permission request is sent first'
        : `refused: ${d.reason ?? d.code ?? 'no reason given'}${d.retryAt ? ` (possible again at ${at(d.retryAt)})` : ''}`;
  const q = p.quota;
  const requests = `${q.left24h} left in 24 h, ${q.left7d} in 7 days${q.blockedByMetaUntil ? `; blocked by Meta until ${at(q.blockedByMetaUntil)}` : ''}${!q.canRequest && q.nextRequestAt ? `; next one at ${at(q.nextRequestAt)}` : ''}`;
  const c = p.dailyCap;
  const calls = `${c.used} connected in 24 h${c.blockedByMetaUntil ? `; blocked by Meta until ${at(c.blockedByMetaUntil)}` : ''}${!c.canCall && c.nextCallAt ? `; cap reached, next call at ${at(c.nextCallAt)}` : ''}`;
  return fieldLines([
    ['WhatsApp user', p.waId],
    ['business number', p.businessNumber],
    ['permission', `${p.state}${p.expiresAt ? ` (until ${at(p.expiresAt)})` : ''}`],
    ["an agent's call", now],
    ['permission requests', requests],
    ['business calls', calls],
  ]);
}

/** Webhooks the gateway acknowledged but did not apply (unknown or invalid shape), newest first, with why. */
export async function deadLettersCommand(ctx: CommandContext): Promise<void> {
  const limit = intOption(ctx.args, 'limit', 20, 1, 1000);
  const { body } = await ctx.gateway().request<{ total: number; items: { receivedAt: string; path: string; reason: string }[] }>('GET', `/v1/webhooks/dead-letters?limit=${limit}`);
  if (json(ctx, body)) return;
  if (body.total === 0) return ctx.out('no dead letters: every webhook received was applied');
  const rows = body.items.map((d) => [d.receivedAt, d.path, d.reason.replace(/\s+/g, ' ')]);
  ctx.out(table(['RECEIVED', 'WHERE', 'WHY NOT APPLIED'], rows));
  if (body.total > body.items.length) ctx.out(`(${body.items.length} newest of ${body.total}; --limit for more)`);
}
