import { isIP } from 'node:net';
import type { SipUri } from 'sip';
import { parseUri } from 'sip';
import type { Endpoint, TransportProtocol } from './sip-transport';

/**
 * Where to send a request (a reduced RFC 3263): the transport is the URI's `transport` parameter (`sips:`
 * means TLS), else the leg's; the port is the URI's, else 5060/5061; a host name is resolved to an IPv4
 * address (A record, through `SipDns`). SRV is the caller's: a trunk given as a bare domain is expanded into
 * its SRV targets before they get here (the signalling app's trunk host resolver).
 */

/** Host name to IPv4 address (IP literals as they are); rejects with an error that names the host (SipDns.address). */
export type HostResolver = (host: string) => Promise<string>;

const TRANSPORTS: readonly TransportProtocol[] = ['udp', 'tcp', 'tls'];

export function defaultPort(protocol: TransportProtocol): number {
  return protocol === 'tls' ? 5061 : 5060;
}

/** Transport named by a URI, if it names one we support. */
export function uriTransport(uri: SipUri): TransportProtocol | undefined {
  if (uri.schema === 'sips') return 'tls';
  const t = uri.params['transport'];
  const lower = typeof t === 'string' ? t.toLowerCase() : undefined;
  return TRANSPORTS.find((p) => p === lower);
}

export class DestinationError extends Error {
  override readonly name = 'DestinationError';
}

/** Resolves a SIP URI (string or parsed) to the endpoint to send to. */
export async function resolveUri(uri: string | SipUri, fallback: TransportProtocol, resolveHost: HostResolver): Promise<Endpoint> {
  const parsed = typeof uri === 'string' ? parseUri(uri) : uri;
  if (!parsed) throw new DestinationError(`not a SIP URI: ${String(uri)}`);
  const protocol = uriTransport(parsed) ?? fallback;
  const port = parsed.port || defaultPort(protocol);
  return withHostname({ protocol, port, address: await resolved(parsed.host, resolveHost) }, parsed.host);
}

/** Parses an outbound proxy given as `host`, `host:port` or a SIP URI. */
export async function resolveProxy(proxy: string, fallback: TransportProtocol, resolveHost: HostResolver): Promise<Endpoint> {
  if (/^sips?:/i.test(proxy)) return resolveUri(proxy, fallback, resolveHost);
  const m = /^([^:\s]+)(?::(\d+))?$/.exec(proxy.trim());
  if (!m?.[1]) throw new DestinationError(`not a host[:port]: ${proxy}`);
  return withHostname({ protocol: fallback, port: m[2] ? Number(m[2]) : defaultPort(fallback), address: await resolved(m[1], resolveHost) }, m[1]);
}

function withHostname(endpoint: Endpoint, host: string): Endpoint {
  return isIP(host) ? endpoint : { ...endpoint, hostname: host };
}

async function resolved(host: string, resolveHost: HostResolver): Promise<string> {
  try {
    return await resolveHost(host);
  } catch (err) {
    throw new DestinationError((err as Error).message);
  }
}
