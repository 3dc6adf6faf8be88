/**
 * libopus through the native addon that @evan/opus ships, used directly rather than through the package's
 * JavaScript wrapper.
 *
 * Why: the wrapper (`node/index.js`) subclasses the classes on the addon's exports object *in place*. Node
 * caches a native addon once per process, so a second evaluation of the wrapper (jest gives every spec file
 * its own module registry; a bundler may do the same) wraps the already wrapped classes, and every encode then
 * returns 0 bytes and every decode fails. Here we find the addon's original classes (the root of that
 * subclass chain), call their `encode`/`decode`/`ctl` ourselves, and read the output from the addon's static
 * buffers, which is safe to repeat any number of times. Platforms without the native addon fall back to the
 * package's WebAssembly build.
 *
 * Contract of the addon (@evan/opus 1.0.3, pinned): `new Encoder({channels, sample_rate, application})`,
 * `encode(pcm) -> bytes written` and `Decoder#decode(packet) -> bytes written` into the process-wide buffers
 * returned by `buffers.encoder()` / `buffers.decoder()`, `ctl(request, value?)`.
 */
import { createRequire } from 'node:module';
import type * as EvanOpus from '@evan/opus';

/** Opus CTL requests (opus_defines.h). */
export const OPUS_SET_BITRATE = 4002;
export const OPUS_SET_COMPLEXITY = 4010;
export const OPUS_SET_INBAND_FEC = 4012;
export const OPUS_SET_PACKET_LOSS_PERC = 4014;

export interface OpusEncoderHandle {
  /** Encodes one frame; the returned bytes are the caller's (a copy). */
  encode(pcm: Int16Array): Buffer;
  ctl(request: number, value: number): void;
}

export interface OpusDecoderHandle {
  /**
   * Decodes one packet to little-endian 16-bit PCM. With the native addon the result is a view of the
   * process-wide output buffer: valid until the next decode anywhere in the process, so use it at once.
   */
  decodeView(packet: Uint8Array): Uint8Array;
}

interface NativeCodec {
  ctl(request: number, value?: number): number;
}
type NativeCtor = new (options: Record<string, unknown>) => NativeCodec;
interface NativeAddon {
  Encoder: NativeCtor;
  Decoder: NativeCtor;
  buffers: { encoder(): Uint8Array; decoder(): Uint8Array };
}

const load = createRequire(__filename);

/** The class at the root of a subclass chain: the addon's own, whoever wrapped it. */
function rootClass(ctor: NativeCtor): NativeCtor {
  let c: NativeCtor = ctor;
  for (let depth = 0; depth < 8; depth++) {
    // the root's parent is Function.prototype (of the addon's realm, not necessarily ours): no .prototype
    const parent: unknown = Object.getPrototypeOf(c);
    if (typeof parent !== 'function' || (parent as { prototype?: unknown }).prototype === undefined) break;
    c = parent as NativeCtor;
  }
  return c;
}

function loadNative(): { Encoder: NativeCtor; Decoder: NativeCtor; enc: Uint8Array; dec: Uint8Array } | null {
  let addon: NativeAddon;
  try {
    addon = load(`@evan/opus/node/${process.arch}-${process.platform}.node`) as NativeAddon;
  } catch {
    // no prebuilt addon for this platform: the WebAssembly build below
    return null;
  }
  return { Encoder: rootClass(addon.Encoder), Decoder: rootClass(addon.Decoder), enc: addon.buffers.encoder(), dec: addon.buffers.decoder() };
}

const native = loadNative();

type EncodeFn = (this: NativeCodec, pcm: ArrayBufferView) => number;
type DecodeFn = (this: NativeCodec, packet: ArrayBufferView) => number;

export function createOpusEncoder(sampleRate: number): OpusEncoderHandle {
  if (native) {
    const raw = new native.Encoder({ channels: 1, sample_rate: sampleRate, application: 'voip' });
    const encode = (native.Encoder.prototype as unknown as { encode: EncodeFn }).encode;
    const out = native.enc;
    return {
      encode(pcm) {
        const n = encode.call(raw, pcm);
        const packet = Buffer.allocUnsafe(n);
        packet.set(out.subarray(0, n));
        return packet;
      },
      ctl: (request, value) => void raw.ctl(request, value),
    };
  }
  const { Encoder } = load('@evan/opus') as typeof EvanOpus;
  const enc = new Encoder({ channels: 1, sample_rate: sampleRate as 8000, application: 'voip' });
  return {
    encode(pcm) {
      const p = enc.encode(pcm);
      return Buffer.from(p.buffer, p.byteOffset, p.byteLength);
    },
    ctl: (request, value) => void enc.ctl(request, value),
  };
}

export function createOpusDecoder(sampleRate: number): OpusDecoderHandle {
  if (native) {
    const raw = new native.Decoder({ channels: 1, sample_rate: sampleRate });
    const decode = (native.Decoder.prototype as unknown as { decode: DecodeFn }).decode;
    const out = native.dec;
    return { decodeView: (packet) => out.subarray(0, decode.call(raw, packet)) };
  }
  const { Decoder } = load('@evan/opus') as typeof EvanOpus;
  const dec = new Decoder({ channels: 1, sample_rate: sampleRate as 8000 });
  return { decodeView: (packet) => dec.decode(packet) };
}
