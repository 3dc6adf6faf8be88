/**
 * Allocates RTP/RTCP UDP port pairs from a configured range (`media.rtpPortMin`..`rtpPortMax`): RTP on an even
 * port, RTCP on the next odd one (RFC 3550 §11). Both sockets are bound before the pair is handed out, so a
 * port taken by another process is skipped. A port is never handed out twice while in use, and allocation
 * rotates through the range so a just-released port is not reused at once (late packets of the previous call).
 */
import { createSocket, type Socket } from 'node:dgram';
import { ipLiteralLookup } from './ip-literal-lookup';
import { PortRangeExhaustedError } from './rtp.errors';

export interface RtpPortAllocatorOptions {
  portMin: number;
  portMax: number;
  /** Address the sockets bind to (e.g. 0.0.0.0, or one interface). */
  host: string;
  /** Binds one UDP socket; tests inject a fake. Default: node:dgram on udp4 (udp6 when host contains ':'). */
  bindUdp?: (port: number, host: string) => Promise<Socket>;
}

/** A bound RTP/RTCP socket pair. `release()` closes both and returns the ports; idempotent. */
export interface RtpSocketPair {
  readonly rtpPort: number;
  readonly rtcpPort: number;
  readonly rtp: Socket;
  readonly rtcp: Socket;
  release(): Promise<void>;
}

function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

/** Binds a UDP socket with node:dgram; rejects with the bind error (EADDRINUSE when taken). */
export function bindUdpSocket(port: number, host: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4', lookup: ipLiteralLookup });
    const onError = (err: Error): void => {
      socket.close();
      reject(err);
    };
    socket.once('error', onError);
    socket.bind(port, host, () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}

async function closeSocket(socket: Socket): Promise<void> {
  await new Promise<void>((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      // already closed (ERR_SOCKET_DGRAM_NOT_RUNNING): nothing left to release
      resolve();
    }
  });
}

export class RtpPortAllocator {
  readonly #firstEven: number;
  readonly #pairCount: number;
  readonly #host: string;
  readonly #bind: (port: number, host: string) => Promise<Socket>;
  readonly #inUse = new Set<number>();
  #cursor = 0;

  constructor(options: RtpPortAllocatorOptions) {
    const { portMin, portMax } = options;
    if (!Number.isInteger(portMin) || !Number.isInteger(portMax) || portMin < 1 || portMax > 65535) {
      throw new RangeError(`bad RTP port range ${portMin}-${portMax}`);
    }
    this.#firstEven = portMin + (portMin % 2);
    this.#pairCount = Math.max(0, Math.floor((portMax - this.#firstEven + 1) / 2));
    if (this.#pairCount === 0) throw new RangeError(`RTP port range ${portMin}-${portMax} holds no even/odd pair`);
    this.#host = options.host;
    this.#bind = options.bindUdp ?? bindUdpSocket;
  }

  /** Pairs handed out and not yet released (a leak check: 0 when every leg is closed). */
  get inUse(): number {
    return this.#inUse.size;
  }

  /** Number of pairs the range holds. */
  get capacity(): number {
    return this.#pairCount;
  }

  /**
   * Binds the next free pair. Ports another process holds are skipped. Throws `PortRangeExhaustedError` when
   * no pair of the range can be bound.
   */
  async allocate(): Promise<RtpSocketPair> {
    for (let tried = 0; tried < this.#pairCount; tried++) {
      const rtpPort = this.#firstEven + 2 * this.#cursor;
      this.#cursor = (this.#cursor + 1) % this.#pairCount;
      if (this.#inUse.has(rtpPort)) continue;
      this.#inUse.add(rtpPort); // claimed before the async bind, so concurrent calls skip it
      let pair: RtpSocketPair | null;
      try {
        pair = await this.#tryBind(rtpPort);
      } catch (err) {
        this.#inUse.delete(rtpPort);
        throw err;
      }
      if (pair) return pair;
      this.#inUse.delete(rtpPort);
    }
    throw new PortRangeExhaustedError(this.#firstEven, this.#firstEven + 2 * this.#pairCount - 1);
  }

  async #tryBind(rtpPort: number): Promise<RtpSocketPair | null> {
    let rtp: Socket;
    try {
      rtp = await this.#bind(rtpPort, this.#host);
    } catch (err) {
      if (errorCode(err) === 'EADDRINUSE') return null;
      throw err;
    }
    let rtcp: Socket;
    try {
      rtcp = await this.#bind(rtpPort + 1, this.#host);
    } catch (err) {
      await closeSocket(rtp);
      if (errorCode(err) === 'EADDRINUSE') return null;
      throw err;
    }
    let released: Promise<void> | undefined;
    const release = (): Promise<void> => {
      released ??= Promise.all([closeSocket(rtp), closeSocket(rtcp)]).then(() => {
        this.#inUse.delete(rtpPort);
      });
      return released;
    };
    return { rtpPort, rtcpPort: rtpPort + 1, rtp, rtcp, release };
  }
}
