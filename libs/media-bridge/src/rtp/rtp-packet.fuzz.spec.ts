import { byteEdit, fuzz, randomBytes, type Prng } from '@wagw/testing';
import { createRtpPacket, parseRtp, parseRtpInto, serializeRtp, writeSimpleRtp, type RtpPacket } from './rtp-packet';
import { RtpParseError } from './rtp.errors';

/**
 * Robustness of RTP decoding over datagrams from the network: parseRtpInto says no, or fills a packet whose
 * fields are in range and whose payload is a view inside the datagram (never past it, even when the datagram
 * is a slice of a larger pooled buffer), and which writes back to the same bytes; parseRtp agrees, throwing
 * only RtpParseError.
 */

/** A valid packet built with the module's writers: CSRCs, a header extension and padding in any mix. */
function validPacket(rng: Prng): Buffer {
  if (rng.chance(0.2)) {
    const payload = randomBytes(rng, rng.pick([0, 1, 4, 160, 320]));
    const out = Buffer.alloc(12 + payload.length);
    writeSimpleRtp(out, rng.int(128), rng.chance(0.5), rng.int(0x10000), rng.int(2 ** 32), rng.int(2 ** 32), payload);
    return out;
  }
  const p: RtpPacket = {
    marker: rng.chance(0.3),
    payloadType: rng.int(128),
    sequenceNumber: rng.int(0x10000),
    timestamp: rng.int(2 ** 32),
    ssrc: rng.int(2 ** 32),
    csrcs: Array.from({ length: rng.chance(0.7) ? 0 : rng.int(16) }, () => rng.int(2 ** 32)),
    extension: rng.chance(0.4) ? { profile: rng.pick([0xbede, 0x1000, rng.int(0x10000)]), data: randomBytes(rng, 4 * rng.int(5)) } : null,
    payload: randomBytes(rng, rng.pick([0, 1, 3, 20, 160])),
    paddingSize: rng.chance(0.7) ? 0 : 1 + rng.int(255),
  };
  return serializeRtp(p);
}

/**
 * 1-3 byte-level edits aimed at RTP's structure: a bit flip, a byte set, a cut, bytes appended, or the CSRC
 * count, X and P bits, extension length and padding count set to what claims more than the datagram holds.
 */
function mutateRtp(rng: Prng, input: Buffer): Buffer {
  let b: Buffer = Buffer.from(input);
  const edits = 1 + rng.int(3);
  for (let i = 0; i < edits; i++) {
    const cc = b.length > 0 ? (b[0] as number) & 0x0f : 0;
    const choice = rng.int(9);
    switch (choice) {
      case 0:
      case 1:
      case 2:
      case 3:
        b = byteEdit(rng, b, choice as 0 | 1 | 2 | 3, [0, 0xff, 0x80, 0x7f]);
        break;
      case 4:
        if (b.length > 0) b[0] = ((b[0] as number) & 0xf0) | rng.int(16); // CSRC count
        break;
      case 5:
        if (b.length > 0) b[0] = (b[0] as number) ^ rng.pick([0x10, 0x20, 0x30, 0x40, 0xc0]); // X, P, version
        break;
      case 6: {
        const at = 12 + 4 * cc + 2; // extension length in 32-bit words
        if (at + 2 <= b.length) b.writeUInt16BE(rng.pick([0xffff, 0x8000, rng.int(0x10000), Math.floor((b.length - at) / 4)]), at);
        break;
      }
      case 7:
        if (b.length > 0) b[b.length - 1] = rng.pick([0, 1, 0xff, b.length - 1, b.length, b.length - 11, rng.int(256)]) & 0xff; // padding count
        break;
      default:
        b = b.subarray(0, rng.pick([0, 1, 11, 12, 13, 15, 16]));
    }
  }
  return b;
}

/** The datagram as Node's dgram gives it: a slice of a larger pooled buffer, with other bytes around it. */
function pooled(datagram: Buffer): Buffer {
  const pool = Buffer.alloc(datagram.length + 64, 0xee);
  datagram.copy(pool, 32);
  return pool.subarray(32, 32 + datagram.length);
}

function expectInRange(p: RtpPacket, buf: Buffer): void {
  const u32 = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 0xffffffff;
  if (!(Number.isInteger(p.payloadType) && p.payloadType >= 0 && p.payloadType <= 127)) throw new Error(`payload type ${p.payloadType}`);
  if (!(Number.isInteger(p.sequenceNumber) && p.sequenceNumber >= 0 && p.sequenceNumber <= 0xffff)) throw new Error(`sequence ${p.sequenceNumber}`);
  if (!u32(p.timestamp) || !u32(p.ssrc) || p.csrcs.length > 15 || !p.csrcs.every(u32)) throw new Error('timestamp, SSRC or CSRCs out of range');
  if (!(p.paddingSize >= 0 && p.paddingSize <= 255)) throw new Error(`padding ${p.paddingSize}`);
  const views = p.extension ? [p.payload, p.extension.data] : [p.payload];
  for (const v of views) {
    if (v.buffer !== buf.buffer || v.byteOffset < buf.byteOffset + 12 || v.byteOffset + v.length > buf.byteOffset + buf.length - p.paddingSize) {
      throw new Error(`a view of ${v.length} bytes at ${v.byteOffset - buf.byteOffset} is outside the ${buf.length}-byte datagram`);
    }
  }
  if (p.extension && p.extension.data.length % 4 !== 0) throw new Error('extension data not a multiple of 4 bytes');
}

/** The packet writes back to the datagram's bytes (padding octets are written as zeros). */
function expectWritesBack(p: RtpPacket, buf: Buffer): void {
  const expected = Buffer.from(buf);
  if (p.paddingSize > 0) expected.fill(0, expected.length - p.paddingSize, expected.length - 1);
  const written = serializeRtp(p);
  if (!written.equals(expected)) throw new Error(`writes back as ${written.toString('hex')}`);
}

describe('RTP decoding (fuzz)', () => {
  it('takes every packet its writers build', () => {
    const failures = fuzz({
      seed: 0x5eed_7101,
      cases: 1000,
      make: (rng) => validPacket(rng),
      check: (datagram) => {
        const buf = pooled(datagram);
        const p = parseRtp(buf);
        expectInRange(p, buf);
        expectWritesBack(p, buf);
      },
    });
    expect(failures.map((f) => ({ ...f, input: f.input.toString('hex') }))).toEqual([]);
  });

  it('says no to a mutated datagram, or reads fields in range and a payload inside it', () => {
    const out = createRtpPacket(); // reused across datagrams, as the RTP leg does
    let taken = 0;
    const failures = fuzz({
      seed: 0x5eed_7102,
      cases: 5000,
      make: (rng) => mutateRtp(rng, validPacket(rng)),
      check: (datagram) => {
        const buf = pooled(datagram);
        const ok = parseRtpInto(buf, out);
        let thrown: unknown;
        try {
          parseRtp(buf);
        } catch (err) {
          thrown = err;
        }
        if (thrown !== undefined && !(thrown instanceof RtpParseError)) throw thrown;
        if (ok !== (thrown === undefined)) throw new Error(`parseRtpInto says ${ok}, parseRtp ${thrown === undefined ? 'parses' : 'throws'}`);
        if (!ok) return;
        taken++;
        expectInRange(out, buf);
        expectWritesBack(out, buf);
      },
    });
    expect(failures.map((f) => ({ ...f, input: f.input.toString('hex') }))).toEqual([]);
    expect(taken).toBeGreaterThan(1000);
  });
});
