import { createSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import type { Logger } from '@wagw/logging';
import { SipStack, type OptionsResult } from '@wagw/sip';
import { UsageError } from './cli.errors';

export type OptionsTransport = 'udp' | 'tcp';

export interface OptionsTarget {
  /** Request-URI of the OPTIONS. */
  uri: string;
  host: string;
  port: number;
  transport: OptionsTransport;
}

/**
 * `sip:host[:port][;params]`, `sip:user@host[:port]` or `host[:port]` (port 5060 by default). The
 * transport is `--transport`, else the URI's `transport` parameter, else UDP.
 */
export function parseOptionsTarget(raw: string, transportOption: string | undefined): OptionsTarget {
  const m = /^(?:sips?:)?(?:[^@;\s]+@)?(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?((?:;[^;\s]*)*)$/.exec(raw.trim());
  if (!m) throw new UsageError(`not a SIP URI or host:port: ${JSON.stringify(raw)}`);
  const host = m[1] as string;
  const port = m[2] ? Number(m[2]) : 5060;
  if (port < 1 || port > 65535) throw new UsageError(`port out of range in ${JSON.stringify(raw)}`);
  const param = /;transport=([a-z]+)/i.exec(m[3] ?? '')?.[1]?.toLowerCase();
  const transport = (transportOption ?? param ?? 'udp').toLowerCase();
  if (transport !== 'udp' && transport !== 'tcp') throw new UsageError(`transport must be udp or tcp, got ${JSON.stringify(transport)}`);
  const uri = /^sips?:/.test(raw.trim()) ? raw.trim() : `sip:${host}:${port}`;
  return { uri, host, port, transport };
}

/** The local address the OS would use toward `host` (a connected UDP socket sends nothing). */
async function localAddressToward(host: string, port: number): Promise<string> {
  const { address, family } = await lookup(host.replace(/^\[|\]$/g, ''));
  const sock = createSocket(family === 6 ? 'udp6' : 'udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.connect(port, address, () => resolve());
    });
    return sock.address().address;
  } finally {
    sock.close();
  }
}

/** Sends one OPTIONS from a short-lived SIP stack on a free port and closes it again. */
export async function sendOneOptions(target: OptionsTarget, timeoutMs: number, logger: Logger): Promise<OptionsResult> {
  let local: string;
  try {
    local = await localAddressToward(target.host, target.port);
  } catch (err) {
    throw new UsageError(`cannot resolve ${target.host}: ${(err as Error).message}`);
  }
  const listen = target.transport === 'udp' ? { host: local, udpPort: 0 } : { host: local, tcpPort: 0 };
  const stack = await SipStack.start({ listen, transactionTimeoutMs: timeoutMs, userAgent: 'wagw-cli', logger });
  try {
    return await stack.sendOptions(target.uri, target.transport);
  } finally {
    await stack.close();
  }
}
