import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { lookup as dnsLookup, type LookupOneOptions } from 'node:dns';
import { ipLiteralLookup, sendToLiteralsAtOnce } from './ip-literal-lookup';

describe('ipLiteralLookup', () => {
  it('answers IPv4 and IPv6 literals synchronously, with their family', () => {
    const seen: unknown[][] = [];
    ipLiteralLookup('127.0.0.1', 4, (...args) => seen.push(args));
    ipLiteralLookup('::1', { family: 6 }, (...args) => seen.push(args));
    expect(seen).toEqual([
      [null, '127.0.0.1', 4],
      [null, '::1', 6],
    ]);
  });

  it('leaves a host name to dns.lookup (answered later, not at once)', async () => {
    let answer: unknown[] | undefined;
    const done = new Promise<void>((resolve) =>
      ipLiteralLookup('localhost', 4, (...args) => {
        answer = args;
        resolve();
      }),
    );
    expect(answer).toBeUndefined();
    await done;
    expect(answer?.[0]).toBeNull();
    expect(answer?.[2]).toBe(4);
  });
});

describe('sockets that resolve IP literals at once', () => {
  const sockets: Socket[] = [];
  // with a synchronous lookup, bind() emits 'listening' before it returns: listen first (as bindUdpSocket does)
  const bound = (s: Socket): Promise<Socket> => {
    sockets.push(s);
    return new Promise((resolve) => s.bind(0, '127.0.0.1', () => resolve(s)));
  };
  afterEach(() => {
    for (const s of sockets.splice(0)) s.close();
  });

  it('createSocket({ lookup: ipLiteralLookup }) still delivers datagrams', async () => {
    const rx = await bound(createSocket('udp4'));
    const tx = await bound(createSocket({ type: 'udp4', lookup: ipLiteralLookup }));
    const got = once(rx, 'message');
    tx.send(Buffer.from('rtp'), rx.address().port, '127.0.0.1');
    const [msg] = (await got) as [Buffer];
    expect(msg.toString()).toBe('rtp');
  });

  it('hands a datagram to an IP literal to the kernel within send() (the default lookup waits a tick)', async () => {
    const rx = await bound(createSocket('udp4'));
    const plain = await bound(createSocket('udp4'));
    const quick = await bound(createSocket({ type: 'udp4', lookup: ipLiteralLookup }));
    const last = await bound(createSocket('udp4'));
    const got: string[] = [];
    rx.on('message', (m: Buffer) => got.push(m.toString()));
    // closed right after send(): only a datagram already handed over leaves (dgram drops a send whose lookup
    // answers after close)
    plain.send(Buffer.from('default lookup'), rx.address().port, '127.0.0.1');
    plain.close();
    quick.send(Buffer.from('ip literal lookup'), rx.address().port, '127.0.0.1');
    quick.close();
    sockets.splice(sockets.indexOf(plain), 1);
    sockets.splice(sockets.indexOf(quick), 1);
    last.send(Buffer.from('end'), rx.address().port, '127.0.0.1');
    for (let i = 0; i < 100 && !got.includes('end'); i++) await new Promise((r) => setTimeout(r, 10));
    expect(got).toEqual(['ip literal lookup', 'end']);
  });
});

describe('sendToLiteralsAtOnce (a socket created with the default lookup, as werift creates them)', () => {
  const sockets: Socket[] = [];
  const bound = async (s: Socket): Promise<Socket> => {
    sockets.push(s);
    s.bind(0, '127.0.0.1');
    await once(s, 'listening');
    return s;
  };
  afterEach(() => {
    for (const s of sockets.splice(0)) s.close();
  });

  it('sends to an IP literal without the lookup, and still asks the lookup for a name', async () => {
    const asked: string[] = [];
    const counting = (host: string, options: number | LookupOneOptions, callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void): void => {
      asked.push(host);
      dnsLookup(host, typeof options === 'number' ? { family: options } : options, callback);
    };
    const rx = await bound(createSocket('udp4'));
    const tx = await bound(createSocket({ type: 'udp4', lookup: counting }));
    asked.length = 0; // bind's own lookup
    expect(sendToLiteralsAtOnce(tx)).toBe(true);
    expect(sendToLiteralsAtOnce(tx)).toBe(true);
    const got: string[] = [];
    rx.on('message', (m: Buffer) => got.push(m.toString()));
    tx.send(Buffer.from('to a literal'), rx.address().port, '127.0.0.1');
    tx.send(Buffer.from('to a name'), rx.address().port, 'localhost');
    for (let i = 0; i < 100 && got.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    expect(got.sort()).toEqual(['to a literal', 'to a name']);
    expect(asked).toEqual(['localhost']);
  });

  it('hands the datagram to the kernel within send() once swapped', async () => {
    const rx = await bound(createSocket('udp4'));
    const tx = await bound(createSocket('udp4'));
    expect(sendToLiteralsAtOnce(tx)).toBe(true);
    const got = once(rx, 'message');
    // closed right after send(): a send still waiting for its lookup would be dropped
    tx.send(Buffer.from('at once'), rx.address().port, '127.0.0.1');
    tx.close();
    sockets.splice(sockets.indexOf(tx), 1);
    const [msg] = (await got) as [Buffer];
    expect(msg.toString()).toBe('at once');
  });

  it('leaves a socket without the expected internal shape alone', () => {
    const notADgramSocket = {} as unknown as Socket;
    expect(sendToLiteralsAtOnce(notADgramSocket)).toBe(false);
  });
});
