/**
 * node:dgram resolves the destination of every unconnected `send()` through its socket's `lookup`, and the
 * default, `dns.lookup`, answers an IP literal on the next tick: one `process.nextTick` per RTP packet, and
 * with it a run of Node's tick queue, whose promise-rejection bookkeeping allocates a Map each time (Node
 * 20). Together about a fifth of the media process's allocations at 50 transcoded calls, and so of its
 * young-generation collections. RTP destinations are always IP literals (SDP c= lines, latched sources), so
 * the sockets the gateway creates itself take this `lookup` (`dgram.createSocket({ lookup })`, a documented
 * option): IP literals are answered at once, host names still go to `dns.lookup`.
 */
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
