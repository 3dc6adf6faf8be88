/**
 * node:dgram resolves the destination of every unconnected `send()` through its `lookup` function, and
 * the default, `dns.lookup`, answers an IP literal on the next tick: one `process.nextTick` (and the
 * per-tick promise bookkeeping after it) per RTP packet, about a tenth of the media process's allocations.
 * RTP destinations are always IP literals (SDP c= lines, ICE candidates, latched sources), so these helpers
 * answer them synchronously; a host name still goes to `dns.lookup`.
 */
import { lookup as dnsLookup, type LookupOneOptions } from 'node:dns';
import { isIP } from 'node:net';
import type { Socket } from 'node:dgram';

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family: number) => void;

/**
 * A `lookup` for `dgram.createSocket({ lookup })`: IP literals at once, names by `dns.lookup`. bind() uses it
 * too, so binding to an IP completes (and emits 'listening' or 'error') before bind() returns: give bind()
 * its callback, or listen first.
 */
export function ipLiteralLookup(hostname: string, options: number | LookupOneOptions, callback: LookupCallback): void {
  const family = isIP(hostname);
  if (family !== 0) return callback(null, hostname, family);
  dnsLookup(hostname, typeof options === 'number' ? { family: options } : options, callback);
}

interface DgramHandle {
  lookup?: (address: string, callback: LookupCallback) => void;
}

/**
 * The same for a socket someone else created (werift's ICE sockets): node:dgram keeps the bound lookup on
 * its internal handle (`lookup4`/`lookup6` in lib/internal/dgram.js, since Node 0.x). Returns false, and
 * changes nothing, when that shape is not there.
 */
export function useIpLiteralLookup(socket: Socket): boolean {
  const stateKey = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'state symbol');
  const handle = stateKey ? (socket as unknown as Record<symbol, { handle?: DgramHandle }>)[stateKey]?.handle : undefined;
  const original = handle?.lookup;
  if (!handle || typeof original !== 'function') return false;
  handle.lookup = (address, callback) => {
    const family = isIP(address);
    if (family !== 0) callback(null, address, family);
    else original.call(handle, address, callback);
  };
  return true;
}
