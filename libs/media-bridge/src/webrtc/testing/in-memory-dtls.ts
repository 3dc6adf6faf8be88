import { DtlsClient, DtlsServer, ProtectionProfileAeadAes128Gcm, RTCDtlsTransport, type Transport } from 'werift';

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
    const copy = Buffer.from(data);
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      if (!this.peer?.closed) this.peer?.onData(copy, { address: '127.0.0.1', port: 0 } as never);
    }, delay);
    this.#timers.add(timer);
  };

  close = async (): Promise<void> => {
    this.closed = true;
    for (const t of this.#timers) clearTimeout(t);
  };
}

/**
 * Test support: a werift DTLS client and server (mutual authentication, AES-GCM SRTP profile, extended
 * master secret, the process's werift certificate on both ends) over an in-memory link, handshaking once.
 * Resolves when both ends are connected (rejects on either's error); the link is closed either way.
 * `serverDelayMs` delays the server's datagrams.
 */
export async function inMemoryDtlsHandshake(
  options: { serverDelayMs?: (index: number) => number } = {},
): Promise<{ client: DtlsClient; server: DtlsServer; errors: Error[] }> {
  const cert = await RTCDtlsTransport.SetupCertificate();
  const toServer = new LinkEnd(() => 0);
  const toClient = new LinkEnd(options.serverDelayMs ?? (() => 0));
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

/** Whether both ends derived the same DTLS-SRTP keying material (RFC 5764 §4.2). */
export function sameSrtpKeys(client: DtlsClient, server: DtlsServer): boolean {
  return client.exportKeyingMaterial('EXTRACTOR-dtls_srtp', 56).equals(server.exportKeyingMaterial('EXTRACTOR-dtls_srtp', 56));
}
