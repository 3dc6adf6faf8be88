import { SECP256R1, X25519, nativeKeyPair, nativePreMasterSecret, useNativeKeyExchange } from './native-key-exchange';
import { inMemoryDtlsHandshake, sameSrtpKeys } from './testing/in-memory-dtls';
import { weriftModule } from './werift-internals';

type KeyPair = ReturnType<typeof nativeKeyPair>;
interface WeriftKeyExchange {
  generateKeyPair(curve: number): KeyPair;
  prfPreMasterSecret(publicKey: Buffer, privateKey: Buffer, curve: number): Buffer;
}

const namedCurveModule = weriftModule<Pick<WeriftKeyExchange, 'generateKeyPair'>>('dtls', 'cipher', 'namedCurve.js');
const prfModule = weriftModule<Pick<WeriftKeyExchange, 'prfPreMasterSecret'>>('dtls', 'cipher', 'prf.js');
const constModule = weriftModule<{ NamedCurveAlgorithmList: number[] }>('dtls', 'cipher', 'const.js');

// werift's own JavaScript key exchange (tweetnacl, @noble/curves), taken before the patch replaces it
const werift: WeriftKeyExchange = {
  generateKeyPair: namedCurveModule.generateKeyPair,
  prfPreMasterSecret: prfModule.prfPreMasterSecret,
};

describe('native DTLS key exchange against werift’s JavaScript one', () => {
  it.each([
    ['X25519', X25519, 32],
    ['P-256', SECP256R1, 65],
  ])('%s: key encodings match and both ends derive the same pre-master secret', (_name, curve, publicKeyBytes) => {
    for (let i = 0; i < 5; i++) {
      const ours = nativeKeyPair(curve);
      const theirs = werift.generateKeyPair(curve);
      expect(ours.curve).toBe(curve);
      expect(ours.privateKey).toHaveLength(32);
      expect(ours.publicKey).toHaveLength(publicKeyBytes);
      const ourSecret = nativePreMasterSecret(theirs.publicKey, ours.privateKey, curve);
      const theirSecret = werift.prfPreMasterSecret(ours.publicKey, theirs.privateKey, curve);
      expect(ourSecret).toHaveLength(32);
      expect(ourSecret.equals(theirSecret)).toBe(true);
      // a private key this module did not issue (imported on the spot)
      expect(nativePreMasterSecret(ours.publicKey, theirs.privateKey, curve).equals(theirSecret)).toBe(true);
      expect(nativePreMasterSecret(theirs.publicKey, nativeKeyPair(curve).privateKey, curve).equals(ourSecret)).toBe(false);
    }
  });

  it('P-256: a private scalar with leading zero bytes still comes as 32 bytes, and agrees', () => {
    // 1 key in 256 has a zero first byte, which node's getPrivateKey() leaves out: 5,000 tries find one
    const theirs = werift.generateKeyPair(SECP256R1);
    let short: ReturnType<typeof nativeKeyPair> | undefined;
    for (let i = 0; i < 5000 && !short; i++) {
      const ours = nativeKeyPair(SECP256R1);
      expect(ours.privateKey).toHaveLength(32);
      if (ours.privateKey[0] === 0) short = ours;
    }
    if (!short) throw new Error('no P-256 key with a zero first byte in 5,000 (odds ~3e-9)');
    const expected = werift.prfPreMasterSecret(short.publicKey, theirs.privateKey, SECP256R1);
    expect(nativePreMasterSecret(theirs.publicKey, short.privateKey, SECP256R1).equals(expected)).toBe(true);
    // the scalar imported again (not through the key this module keeps for it)
    expect(nativePreMasterSecret(theirs.publicKey, Buffer.from(short.privateKey), SECP256R1).equals(expected)).toBe(true);
  });

  it('X25519 with a low-order peer point gives all zeros as tweetnacl does, without throwing', () => {
    const ours = nativeKeyPair(X25519);
    const zeroPoint = Buffer.alloc(32);
    expect(werift.prfPreMasterSecret(zeroPoint, ours.privateKey, X25519).equals(Buffer.alloc(32))).toBe(true);
    expect(nativePreMasterSecret(zeroPoint, ours.privateKey, X25519).equals(Buffer.alloc(32))).toBe(true);
    expect(nativePreMasterSecret(Buffer.alloc(5), ours.privateKey, X25519).equals(Buffer.alloc(32))).toBe(true);
  });

  it('P-256 with a point off the curve throws, as werift’s does', () => {
    const ours = nativeKeyPair(SECP256R1);
    const offCurve = Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 1)]);
    expect(() => werift.prfPreMasterSecret(offCurve, ours.privateKey, SECP256R1)).toThrow();
    expect(() => nativePreMasterSecret(offCurve, ours.privateKey, SECP256R1)).toThrow();
  });

  it('names an unknown curve', () => {
    expect(() => nativeKeyPair(24)).toThrow('unsupported named curve 24');
    expect(() => nativePreMasterSecret(Buffer.alloc(32), Buffer.alloc(32), 24)).toThrow('unsupported named curve 24');
  });
});

describe('werift DTLS handshake with the native key exchange', () => {
  const weriftOrder = [...constModule.NamedCurveAlgorithmList];
  beforeAll(() => useNativeKeyExchange());
  afterEach(() => constModule.NamedCurveAlgorithmList.splice(0, Infinity, ...weriftOrder));

  it('patches the functions werift’s handshake flights call', () => {
    expect(namedCurveModule.generateKeyPair).toBe(nativeKeyPair);
    expect(prfModule.prfPreMasterSecret).toBe(nativePreMasterSecret);
  });

  // the client offers werift's list in order, the server takes the first it knows: reordering the list
  // makes both ends use P-256
  it.each([
    ['X25519', [X25519, SECP256R1], X25519],
    ['P-256', [SECP256R1, X25519], SECP256R1],
  ])('completes a handshake over %s, both ends with the same SRTP keys', async (_name, order, curve) => {
    constModule.NamedCurveAlgorithmList.splice(0, Infinity, ...order);
    const { client, server } = await inMemoryDtlsHandshake();
    expect(server.cipher.namedCurve).toBe(curve);
    expect(client.cipher.localKeyPair?.curve).toBe(curve);
    expect(sameSrtpKeys(client, server)).toBe(true);
  }, 15_000);
});
