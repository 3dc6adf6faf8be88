import { createServer } from 'node:net';
import { freeTcpPort, freeTcpUdpPort } from './free-port';

describe('freeTcpPort', () => {
  it('hands out distinct, bindable ports below the ephemeral range (so no outgoing connection takes them first)', async () => {
    const ports: number[] = [];
    for (let i = 0; i < 20; i++) ports.push(await freeTcpPort());
    ports.push(...(await Promise.all([freeTcpPort(), freeTcpPort(), freeTcpUdpPort(), freeTcpPort()])));
    expect(new Set(ports).size).toBe(ports.length);
    for (const p of ports) expect(p >= 12_000 && p <= 19_999).toBe(true);
    const srv = createServer();
    await new Promise<void>((resolve, reject) => srv.once('error', reject).listen(ports[0], '127.0.0.1', resolve));
    await new Promise((r) => srv.close(r));
  });
});
