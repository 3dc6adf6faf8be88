import type { Socket } from 'node:dgram';
import { RtpPortAllocator } from './port-allocator';
import { PortRangeExhaustedError } from './rtp.errors';

/** A fake binder: records bound ports, fails with EADDRINUSE for ports "taken by another process". */
function fakeBinder(taken: Set<number> = new Set()) {
  const bound = new Set<number>();
  const bind = async (port: number): Promise<Socket> => {
    if (taken.has(port) || bound.has(port)) throw Object.assign(new Error(`bind ${port}`), { code: 'EADDRINUSE' });
    bound.add(port);
    return { close: (cb?: () => void) => (bound.delete(port), cb?.()) } as unknown as Socket;
  };
  return { bind, bound };
}

describe('RtpPortAllocator', () => {
  it('hands out even RTP ports with RTCP on the next odd port', async () => {
    const { bind, bound } = fakeBinder();
    const alloc = new RtpPortAllocator({ portMin: 20001, portMax: 20010, host: '127.0.0.1', bindUdp: bind });
    expect(alloc.capacity).toBe(4); // 20002, 20004, 20006, 20008 (20010 has no odd partner)
    const pairs = await Promise.all([alloc.allocate(), alloc.allocate(), alloc.allocate(), alloc.allocate()]);
    expect(pairs.map((p) => [p.rtpPort, p.rtcpPort])).toEqual([
      [20002, 20003],
      [20004, 20005],
      [20006, 20007],
      [20008, 20009],
    ]);
    expect(bound.size).toBe(8);
    expect(alloc.inUse).toBe(4);
    await expect(alloc.allocate()).rejects.toBeInstanceOf(PortRangeExhaustedError);
  });

  it('never hands out a port twice and counts releases back to zero (idempotent release)', async () => {
    const { bind, bound } = fakeBinder();
    const alloc = new RtpPortAllocator({ portMin: 30000, portMax: 30005, host: '127.0.0.1', bindUdp: bind });
    const a = await alloc.allocate();
    const b = await alloc.allocate();
    expect(a.rtpPort).not.toBe(b.rtpPort);
    await a.release();
    await a.release();
    expect(alloc.inUse).toBe(1);
    const c = await alloc.allocate(); // rotates: the just-released port is not first in line
    expect(c.rtpPort).toBe(30004);
    await Promise.all([b.release(), c.release()]);
    expect(alloc.inUse).toBe(0);
    expect(bound.size).toBe(0);
  });

  it('skips pairs another process holds, on either port', async () => {
    const { bind } = fakeBinder(new Set([40000, 40003]));
    const alloc = new RtpPortAllocator({ portMin: 40000, portMax: 40005, host: '127.0.0.1', bindUdp: bind });
    const p = await alloc.allocate();
    expect(p.rtpPort).toBe(40004);
    await expect(alloc.allocate()).rejects.toBeInstanceOf(PortRangeExhaustedError);
    expect(alloc.inUse).toBe(1);
  });

  it('passes other bind errors through and frees the claim', async () => {
    const alloc = new RtpPortAllocator({
      portMin: 50000,
      portMax: 50003,
      host: '203.0.113.1',
      bindUdp: async () => {
        throw Object.assign(new Error('not my address'), { code: 'EADDRNOTAVAIL' });
      },
    });
    await expect(alloc.allocate()).rejects.toThrow('not my address');
    expect(alloc.inUse).toBe(0);
  });

  it('rejects a range without an even/odd pair', () => {
    expect(() => new RtpPortAllocator({ portMin: 5001, portMax: 5002, host: '127.0.0.1' })).toThrow(RangeError);
  });
});
