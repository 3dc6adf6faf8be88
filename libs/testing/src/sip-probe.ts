import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

/**
 * A one-shot SIP OPTIONS ping (RFC 3261 §11) over UDP, TCP or TLS, used to tell when a SIP server is up.
 * Resolves with the final status code, or undefined when nothing answered within `timeoutMs`.
 */
export interface SipPingOptions {
  host: string;
  port: number;
  transport?: 'udp' | 'tcp' | 'tls';
  timeoutMs?: number;
  /** Request-URI user; none by default (addresses the server itself). */
  user?: string;
}

function token(): string {
  return randomBytes(6).toString('hex');
}

export function buildOptionsRequest(o: Required<Omit<SipPingOptions, 'timeoutMs' | 'user'>> & { user?: string }, localPort: number): string {
  const via = o.transport.toUpperCase();
  const ruri = o.user ? `sip:${o.user}@${o.host}:${o.port}` : `sip:${o.host}:${o.port}`;
  return [
    `OPTIONS ${ruri}${o.transport === 'udp' ? '' : `;transport=${o.transport}`} SIP/2.0`,
    `Via: SIP/2.0/${via} ${o.host}:${localPort};branch=z9hG4bK${token()};rport`,
    'Max-Forwards: 70',
    `From: <sip:probe@${o.host}>;tag=${token()}`,
    `To: <${ruri}>`,
    `Call-ID: ${token()}@wagw-probe`,
    'CSeq: 1 OPTIONS',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

/** The status code of the first final response in `text`, if any. */
export function parseFinalStatus(text: string): number | undefined {
  for (const m of text.matchAll(/^SIP\/2\.0 (\d{3}) /gm)) {
    const code = Number(m[1]);
    if (code >= 200) return code;
  }
  return undefined;
}

function pingUdp(o: Required<Omit<SipPingOptions, 'user'>> & { user?: string }): Promise<number | undefined> {
  return new Promise((resolve) => {
    const sock = createSocket('udp4');
    const finish = (code: number | undefined) => {
      clearTimeout(timer);
      sock.close();
      resolve(code);
    };
    const timer = setTimeout(() => finish(undefined), o.timeoutMs);
    sock.on('error', () => finish(undefined)); // a connected socket reports ICMP port unreachable at once
    sock.on('message', (msg) => {
      const code = parseFinalStatus(msg.toString('utf8'));
      if (code !== undefined) finish(code);
    });
    sock.bind(0, o.host, () => {
      sock.connect(o.port, o.host, () => sock.send(buildOptionsRequest(o, sock.address().port)));
    });
  });
}

function pingStream(o: Required<Omit<SipPingOptions, 'user'>> & { user?: string }): Promise<number | undefined> {
  return new Promise((resolve) => {
    let buf = '';
    const sock: Socket =
      o.transport === 'tls'
        ? tlsConnect({ host: o.host, port: o.port, rejectUnauthorized: false })
        : tcpConnect({ host: o.host, port: o.port });
    const finish = (code: number | undefined) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(code);
    };
    const timer = setTimeout(() => finish(undefined), o.timeoutMs);
    sock.on('error', () => finish(undefined));
    sock.once(o.transport === 'tls' ? 'secureConnect' : 'connect', () => {
      sock.write(buildOptionsRequest(o, sock.localPort ?? 0));
    });
    sock.on('data', (d: Buffer) => {
      buf += d.toString('utf8');
      const code = parseFinalStatus(buf);
      if (code !== undefined) finish(code);
    });
  });
}

export function sipOptionsPing(options: SipPingOptions): Promise<number | undefined> {
  const o = { transport: 'udp' as const, timeoutMs: 200, ...options };
  return o.transport === 'udp' ? pingUdp(o) : pingStream(o);
}
