import type { InboundRequestInfo, InviteAuthDecision } from '@wagw/sip';
import { configuredHosts } from '../trunks/trunk-host-resolver';
import type { TrunkConfig } from './trunk-directory';

/** `a.b.c.d` or `a.b.c.d/n` contains `ip` (IPv4 only; other forms match only literally). */
export function ipMatches(pattern: string, ip: string): boolean {
  const [base, bitsText] = pattern.split('/');
  if (bitsText === undefined) return base === ip;
  const bits = Number(bitsText);
  const toInt = (a: string): number | undefined => {
    const parts = a.split('.').map(Number);
    if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return undefined;
    return ((parts[0] as number) << 24) | ((parts[1] as number) << 16) | ((parts[2] as number) << 8) | (parts[3] as number);
  };
  const a = toInt(base ?? '');
  const b = toInt(ip);
  if (a === undefined || b === undefined || !Number.isInteger(bits) || bits < 0 || bits > 32) return false;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return ((a & mask) >>> 0) === ((b & mask) >>> 0);
}

/** Where a trunk's INVITEs may come from, besides its allowFrom list (TrunkHealthService satisfies it). */
export interface TrunkSources {
  /** Where the PBX of a registrar trunk registered from (undefined: not registered, or not such a trunk). */
  registeredSource(trunk: TrunkConfig): string | undefined;
  /** The addresses of the trunk's hosts, names resolved (SRV targets included). */
  hostAddresses(trunk: TrunkConfig): readonly string[];
}

/** Without DNS: the hosts given as addresses. */
const literalSources: TrunkSources = { registeredSource: () => undefined, hostAddresses: (t) => configuredHosts(t).addresses };

/**
 * The trunk an INVITE from `ip` belongs to: its allowFrom list, or (when empty) its hosts' addresses; for a
 * trunk whose PBX registers to us, also the address it registered from.
 */
export function trunkForSource(trunks: readonly TrunkConfig[], ip: string, sources: TrunkSources = literalSources): TrunkConfig | undefined {
  return trunks.find((t) => {
    if (sources.registeredSource(t) === ip) return true;
    const allowed = t.allowFrom.length > 0 ? t.allowFrom : sources.hostAddresses(t);
    return allowed.some((p) => ipMatches(p, ip));
  });
}

/**
 * The decision on a new INVITE from the PBX side (issue: PBX-originated calls): a source on no trunk's
 * allow-list gets 403 without anything reaching WhatsApp; a trunk with inbound credentials is challenged
 * (407) until the request carries a valid digest; otherwise it is accepted.
 */
export function authorizeInvite(trunks: readonly TrunkConfig[], req: InboundRequestInfo, realm: string, sources?: TrunkSources): InviteAuthDecision {
  const trunk = trunkForSource(trunks, req.source.address, sources);
  if (!trunk) return { action: 'reject', status: 403, reason: 'Forbidden', headers: { Warning: `399 ${realm} "source address ${req.source.address} is not on a trunk allow-list"` } };
  if (!trunk.inboundUsername) return { action: 'accept' };
  return { action: 'digest', realm, proxy: true, password: (username) => (username === trunk.inboundUsername ? trunk.inboundPassword : undefined) };
}
