import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';

/**
 * Ports for test peers (apps' HTTP, SIP, Redis, Kamailio, baresip) come from here: below Linux's ephemeral
 * range (32768+), from which the OS also picks the source ports of outgoing connections (a port taken there
 * by listen(0) and released can be grabbed by a connect() before the peer listens on it: EADDRINUSE), and
 * below the media app's default RTP range (20000+).
 */
const LOW = 12_000;
const HIGH = 19_999;
/** Ports handed out lately by this module: not handed out again while a peer may still be starting on them. */
const recent: number[] = [];
const RECENT_MAX = 512;

/** A TCP port that was free a moment ago on `host` and that this module has not handed out lately. */
export async function freeTcpPort(host = '127.0.0.1'): Promise<number> {
  const span = HIGH - LOW + 1;
  const start = Math.floor(Math.random() * span);
  for (let i = 0; i < 400; i++) {
    const port = LOW + ((start + i) % span);
    if (recent.includes(port) || !(await tcpPortFree(port, host))) continue;
    recent.push(port);
    if (recent.length > RECENT_MAX) recent.shift();
    return port;
  }
  throw new Error(`no free TCP port in ${LOW}-${HIGH} after 400 tries`);
}

/** A port free for both TCP and UDP (SIP listens on both). */
export async function freeTcpUdpPort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await freeTcpPort(host);
    const ok = await new Promise<boolean>((resolve) => {
      const sock = createSocket('udp4');
      sock.once('error', () => resolve(false));
      sock.bind(port, host, () => sock.close(() => resolve(true)));
    });
    if (ok) return port;
  }
  throw new Error('no port free for both TCP and UDP after 50 attempts');
}

async function tcpPortFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}

/**
 * A port free for TCP and UDP whose next port is free for TCP too: baresip binds SIP on `port` and SIP/TLS on
 * `port + 1` without checking, so a busy neighbour makes it fail with "Address already in use".
 */
export async function freeSipPortPair(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await freeTcpUdpPort(host);
    if (port < 65535 && (await tcpPortFree(port + 1, host))) return port;
  }
  throw new Error('no port pair (p, p+1) free after 50 attempts');
}
