import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';

/** A TCP port that was free a moment ago on `host` (the OS picks it). */
export async function freeTcpPort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
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
