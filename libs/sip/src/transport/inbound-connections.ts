import type { Socket } from 'node:net';
import type { Logger } from '@wagw/logging';
import type { Endpoint } from './sip-transport';
import { WarningWindow } from './warning-window';

/**
 * How many TCP/TLS connections others may hold open to us at once: a peer (or many) opening connections
 * without end would otherwise take every file descriptor of the process, and its calls with it.
 */
export interface InboundConnectionLimits {
  /** Over both stream transports. Default 1024. */
  total?: number;
  /** From one IP address. Default 64 (a PBX keeps one or a few). */
  perAddress?: number;
}

const DEFAULT_INBOUND_CONNECTIONS: Required<InboundConnectionLimits> = { total: 1024, perAddress: 64 };

type StreamProtocol = 'tcp' | 'tls';
export type ConnectionLimit = 'total' | 'per-address';

/**
 * The TCP/TLS connections peers hold open to our listening ports, counted at their TCP accept (before any
 * TLS handshake): one over a limit is closed at once, logged once per address per 10 s, and reported.
 */
export class InboundConnections {
  readonly #limits: Required<InboundConnectionLimits>;
  /** Open connections by remote address. */
  readonly #byAddress = new Map<string, number>();
  readonly #byProtocol = { tcp: 0, tls: 0 };
  #total = 0;
  readonly #warnings = new WarningWindow();

  constructor(
    limits: InboundConnectionLimits,
    private readonly log: Logger,
    private readonly onRefused?: (remote: Endpoint, limit: ConnectionLimit) => void,
  ) {
    this.#limits = { ...DEFAULT_INBOUND_CONNECTIONS, ...limits };
  }

  get total(): number {
    return this.#total;
  }

  byTransport(): { tcp: number; tls: number } {
    return { ...this.#byProtocol };
  }

  /** Counts an accepted connection until it closes, or closes it at once (false) when it is over a limit. */
  admit(socket: Socket, protocol: StreamProtocol): boolean {
    const address = socket.remoteAddress ?? '';
    const fromAddress = this.#byAddress.get(address) ?? 0;
    const limit: ConnectionLimit | undefined = this.#total >= this.#limits.total ? 'total' : fromAddress >= this.#limits.perAddress ? 'per-address' : undefined;
    if (limit) {
      socket.destroy();
      this.#refused({ protocol, address, port: socket.remotePort ?? 0 }, limit);
      return false;
    }
    this.#byAddress.set(address, fromAddress + 1);
    this.#total++;
    this.#byProtocol[protocol]++;
    socket.once('close', () => {
      this.#total--;
      this.#byProtocol[protocol]--;
      const left = (this.#byAddress.get(address) ?? 1) - 1;
      if (left > 0) this.#byAddress.set(address, left);
      else this.#byAddress.delete(address);
    });
    return true;
  }

  #refused(remote: Endpoint, limit: ConnectionLimit): void {
    const due = this.#warnings.due(remote.address);
    if (due) {
      const max = limit === 'total' ? this.#limits.total : this.#limits.perAddress;
      this.log.warn(
        { from: `${remote.protocol}:${remote.address}:${remote.port}`, limit, max, open: this.#total, ...(due.heldBack ? { refusedSinceLastWarning: due.heldBack } : {}) },
        limit === 'total' ? 'sip connection refused: the inbound connection limit is reached' : 'sip connection refused: this address holds its limit of connections',
      );
    }
    try {
      this.onRefused?.(remote, limit);
    } catch (err) {
      this.log.error({ err }, 'connection-refused listener threw');
    }
  }
}
