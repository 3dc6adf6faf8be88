import { createSocket } from 'node:dgram';
import { PeerHarnessError } from './process';

/** Media ports come from below Linux's ephemeral range (32768+), like free-port.ts's (12000-19999). */
const LOW = 10_000;
const HIGH = 32_000;

export function udpPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createSocket('udp4');
    sock.once('error', () => resolve(false));
    sock.bind(port, host, () => sock.close(() => resolve(true)));
  });
}

/**
 * The first port of `count` consecutive UDP ports, starting on an even port, that were all free a moment
 * ago (RTP on even ports, RFC 3550 §11). Random start, so parallel test workers rarely collide.
 */
export async function freeUdpPortRange(count: number, host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const base = LOW + 2 * Math.floor((Math.random() * (HIGH - LOW - count)) / 2);
    let ok = true;
    for (let p = base; p < base + count && ok; p++) ok = await udpPortFree(p, host);
    if (ok) return base;
  }
  throw new PeerHarnessError(`no ${count} consecutive free UDP ports after 20 attempts`);
}
