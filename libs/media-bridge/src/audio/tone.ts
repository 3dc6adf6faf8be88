/**
 * Test and demo audio: a sine generator that keeps its phase across frames, and a Goertzel detector that
 * measures the power of one frequency relative to the frame's total power. Tone checks in tests compare
 * the target frequency with off-target ones, so a tone is detected by frequency, not by packet counts.
 */
export class ToneGenerator {
  #phase = 0;
  constructor(
    readonly frequencyHz: number,
    readonly sampleRate: number,
    readonly amplitude = 8000,
  ) {}

  /** Next `samples` samples of the tone (mono, 16-bit). */
  next(samples: number): Int16Array {
    const out = new Int16Array(samples);
    const step = (2 * Math.PI * this.frequencyHz) / this.sampleRate;
    for (let i = 0; i < samples; i++) {
      out[i] = Math.round(this.amplitude * Math.sin(this.#phase));
      this.#phase += step;
    }
    this.#phase %= 2 * Math.PI;
    return out;
  }
}

/** Goertzel power of `frequencyHz` in `samples`, normalised by the frame's energy (0..1 for a pure tone ~1). */
export function goertzelRatio(samples: Int16Array, frequencyHz: number, sampleRate: number): number {
  const n = samples.length;
  if (n === 0) return 0;
  const k = Math.round((n * frequencyHz) / sampleRate);
  const w = (2 * Math.PI * k) / n;
  const coeff = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  let energy = 0;
  for (let i = 0; i < n; i++) {
    const x = samples[i] as number;
    energy += x * x;
    const s0 = x + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  if (energy === 0) return 0;
  const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  return (2 * power) / (n * energy);
}

/** Several runs of samples as one (frames joined for an analysis window longer than a frame). */
export function concatSamples(parts: readonly Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Mean absolute amplitude: tells silence from sound. */
export function meanAbs(samples: Int16Array): number {
  let sum = 0;
  for (let i = 0; i < samples.length; i++) sum += Math.abs(samples[i] as number);
  return samples.length ? sum / samples.length : 0;
}

export interface ToneReport {
  frequencyHz: number;
  /** Frames (analysis windows) examined. */
  frames: number;
  /** Frames in which the tone dominated: ratio above threshold and louder than the noise floor. */
  framesWithTone: number;
  /** Mean Goertzel ratio of the target over the examined frames. */
  meanRatio: number;
}

/**
 * Slides a window over recorded audio and counts windows in which `frequencyHz` carries most of the energy.
 * A window counts when its ratio is >= `threshold` (0.5 default) and it is not silence.
 */
export function analyseTone(
  samples: Int16Array,
  frequencyHz: number,
  sampleRate: number,
  windowMs = 40,
  threshold = 0.5,
): ToneReport {
  const win = Math.round((sampleRate * windowMs) / 1000);
  let frames = 0;
  let framesWithTone = 0;
  let ratioSum = 0;
  for (let off = 0; off + win <= samples.length; off += win) {
    const frame = samples.subarray(off, off + win);
    frames++;
    const ratio = goertzelRatio(frame, frequencyHz, sampleRate);
    ratioSum += ratio;
    if (ratio >= threshold && meanAbs(frame) > 200) framesWithTone++;
  }
  return { frequencyHz, frames, framesWithTone, meanRatio: frames ? ratioSum / frames : 0 };
}
