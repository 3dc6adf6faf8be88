/**
 * node:dgram resolves the destination of every unconnected `send()` through its socket's `lookup`, and the
 * default, `dns.lookup`, answers an IP literal on the next tick: one `process.nextTick` per RTP packet, and
 * with it a run of Node's tick queue, whose promise-rejection bookkeeping allocates a Map each time (Node
 * 20). Together about a fifth of the media process's allocations at 50 transcoded calls, and so of its
 * young-generation collections. RTP destinations are always IP literals (SDP c= lines, latched sources), so
 * the sockets the gateway creates itself take this `lookup` (`dgram.createSocket({ lookup })`, a documented
 * option): IP literals are answered at once, host names still go to `dns.lookup`.
 */
import type { Socket } from 'node:dgram';
import { lookup as dnsLookup, type LookupOneOptions } from 'node:dns';
import { isIP } from 'node:net';

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

type HandleLookup = (address: string, callback: (err: Error | null, ip?: string) => void) => void;
interface DgramState {
  handle?: { lookup?: HandleLookup } | null;
}

const swapped = new WeakSet<Socket>();

/**
 * The same for a socket someone else created with the default lookup (werift's: it takes no `lookup`, and its
 * bind waits for the 'listening' event, which a lookup answered at once would emit before werift listens).
 * Once the socket is bound, this swaps the lookup its sends use for one that answers IP literals at once
 * (names still go to the original). That lookup lives on the socket's internal state (Node 18-22: a
 * symbol-keyed `{ handle }` whose handle has a bound `lookup(address, callback)`); when the shape is not
 * there this changes nothing and returns false: the socket keeps working, one tick slower per send.
 */
export function sendToLiteralsAtOnce(socket: Socket): boolean {
  if (swapped.has(socket)) return true;
  const key = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'state symbol');
  const state = key ? ((socket as unknown as Record<symbol, unknown>)[key] as DgramState | undefined) : undefined;
  const handle = state?.handle;
  const original = handle?.lookup;
  if (!handle || typeof original !== 'function') return false;
  handle.lookup = (address, callback) => {
    if (isIP(address) !== 0) callback(null, address);
    else original(address, callback);
  };
  swapped.add(socket);
  return true;
}
