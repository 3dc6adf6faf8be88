import { ignoreRepeatedHelloVerifyRequests } from './dtls-retransmission';
import { inMemoryDtlsHandshake, sameSrtpKeys } from './testing/in-memory-dtls';

describe("werift's DTLS client with a slow server (ClientHello retransmitted, HelloVerifyRequest twice)", () => {
  beforeAll(() => ignoreRepeatedHelloVerifyRequests());

  // The server's two HelloVerifyRequests arrive 700 ms late: the client retransmits its ClientHello at
  // 500 ms, so the second one reaches it after it has moved on, during flight 3 (werift threw there) or
  // once flight 5 is out (werift went back to flight 3 and the handshake broke).
  it.each([
    ['during flight 3', (i: number) => (i < 2 ? 700 : 1000)],
    ['after flight 5', (i: number) => (i < 2 ? 700 : 0)],
  ])('completes the handshake when the repeated HelloVerifyRequest arrives %s, both ends with the same SRTP keys', async (_when, delay) => {
    const { client, server, errors } = await inMemoryDtlsHandshake({ serverDelayMs: delay });
    expect(errors).toEqual([]);
    expect(client.connected && server.connected).toBe(true);
    expect(sameSrtpKeys(client, server)).toBe(true);
  }, 15_000);

  it('still completes a handshake where nothing is late', async () => {
    const { client, server, errors } = await inMemoryDtlsHandshake();
    expect(errors).toEqual([]);
    expect(client.connected && server.connected).toBe(true);
  }, 15_000);
});
