import { DtlsClient, DtlsServer, ProtectionProfileAeadAes128Gcm, RTCDtlsTransport, type Transport } from 'werift';
import { ignoreRepeatedHelloVerifyRequests } from './dtls-retransmission';

/** One end of an in-memory datagram link; `delayMs` decides, per datagram, how late it arrives at the peer. */
class LinkEnd implements Transport {
  readonly type = 'memory';
  readonly address = { address: '127.0.0.1', family: 'IPv4', port: 0 };
  closed = false;
  peer?: LinkEnd;
  sent = 0;
  readonly #timers = new Set<NodeJS.Timeout>();
  onData: Transport['onData'] = () => undefined;

  constructor(private readonly delayMs: (index: number) => number) {}

  send = async (data: Buffer): Promise<void> => {
    const delay = this.delayMs(this.sent++);
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      if (!this.peer?.closed) this.peer?.onData(Buffer.from(data), { address: '127.0.0.1', port: 0 } as never);
    }, delay);
    this.#timers.add(timer);
  };

  close = async (): Promise<void> => {
    this.closed = true;
    for (const t of this.#timers) clearTimeout(t);
  };
}

async function handshake(serverDelayMs: (index: number) => number): Promise<{ client: DtlsClient; server: DtlsServer; errors: Error[] }> {
  const cert = await RTCDtlsTransport.SetupCertificate();
  const toServer = new LinkEnd(() => 0);
  const toClient = new LinkEnd(serverDelayMs);
  toServer.peer = toClient;
  toClient.peer = toServer;
  const common = { cert: cert.certPem, key: cert.privateKey, signatureHash: cert.signatureHash, srtpProfiles: [ProtectionProfileAeadAes128Gcm], extendedMasterSecret: true };
  const server = new DtlsServer({ ...common, transport: toClient, certificateRequest: true });
  const client = new DtlsClient({ ...common, transport: toServer });
  const errors: Error[] = [];
  const connected = (s: DtlsClient | DtlsServer): Promise<void> =>
    new Promise((resolve, reject) => {
      s.onConnect.once(() => resolve());
      s.onError.once((e) => {
        errors.push(e);
        reject(e);
      });
    });
  const both = Promise.all([connected(client), connected(server)]);
  await client.connect();
  try {
    await both;
  } finally {
    await toServer.close();
    await toClient.close();
  }
  return { client, server, errors };
}

describe("werift's DTLS client with a slow server (ClientHello retransmitted, HelloVerifyRequest twice)", () => {
  beforeAll(() => ignoreRepeatedHelloVerifyRequests());

  // The server's two HelloVerifyRequests arrive 700 ms late: the client retransmits its ClientHello at
  // 500 ms, so the second one reaches it after it has moved on, during flight 3 (werift threw there) or
  // once flight 5 is out (werift went back to flight 3 and the handshake broke).
  it.each([
    ['during flight 3', (i: number) => (i < 2 ? 700 : 1000)],
    ['after flight 5', (i: number) => (i < 2 ? 700 : 0)],
  ])('completes the handshake when the repeated HelloVerifyRequest arrives %s, both ends with the same SRTP keys', async (_when, delay) => {
    const { client, server, errors } = await handshake(delay);
    expect(errors).toEqual([]);
    expect(client.connected && server.connected).toBe(true);
    const clientKeys = client.exportKeyingMaterial('EXTRACTOR-dtls_srtp', 56);
    expect(clientKeys.equals(server.exportKeyingMaterial('EXTRACTOR-dtls_srtp', 56))).toBe(true);
  }, 15_000);

  it('still completes a handshake where nothing is late', async () => {
    const { client, server, errors } = await handshake(() => 0);
    expect(errors).toEqual([]);
    expect(client.connected && server.connected).toBe(true);
  }, 15_000);
});
