/**
 * Test support: bounded polling for conditions that have no event to await (packet counters of a peer).
 * Every wait has a deadline and says what it waited for when it gives up.
 */
export async function waitFor(what: string, condition: () => boolean, timeoutMs = 5000, stepMs = 20): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** UDP ports (IPv4) currently open in this network namespace, from /proc/net/udp. */
export async function openUdpPorts(): Promise<Set<number>> {
  const { readFile } = await import('node:fs/promises');
  const text = await readFile('/proc/self/net/udp', 'utf8');
  const ports = new Set<number>();
  for (const line of text.split('\n').slice(1)) {
    const local = line.trim().split(/\s+/)[1];
    const port = local?.split(':')[1];
    if (port) ports.add(parseInt(port, 16));
  }
  return ports;
}
