import { analyseTone, type UserMediaSession } from '@wagw/media-bridge';
import type { CallLifecycle } from './call-lifecycle';
import { ControlError } from './emulator.errors';
import type { UserRegistry } from './users.registry';

/** Simulated users decode what they hear to 48 kHz mono (UserMediaSession.recording()). */
export const RECORDING_SAMPLE_RATE = 48_000;

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** What a simulated user sends and hears, driven over /emulator/users/:waId/media/*. */
export class MediaControl {
  constructor(
    private readonly users: UserRegistry,
    private readonly lifecycle: CallLifecycle,
  ) {}

  /** The media of the user's current call; 409 when the user is not in a call. */
  #live(waId: string): UserMediaSession {
    const user = this.users.get(waId);
    const call = user.currentCallId ? this.lifecycle.find(user.currentCallId) : undefined;
    if (!call || call.ended) throw new ControlError('conflict', `user ${waId} is not in a call`);
    return call.session;
  }

  playTone(waId: string, frequencyHz: number): void {
    this.#live(waId).playTone(frequencyHz);
  }

  async playWav(waId: string, path: string): Promise<void> {
    const session = this.#live(waId);
    try {
      await session.playWav(path);
    } catch (err) {
      throw new ControlError('invalid', `cannot play ${path}: ${errorText(err)}`);
    }
  }

  stop(waId: string): void {
    this.#live(waId).stopSending();
  }

  /** The user's phone loses its network: its media sends nothing more (RTP and RTCP), the call stays up. */
  cutNetwork(waId: string): void {
    const session = this.#live(waId);
    if (!session.cutNetwork) throw new ControlError('invalid', `user ${waId}'s media cannot lose its network (a browser's)`);
    session.cutNetwork();
  }

  async dtmf(waId: string, digits: string, durationMs?: number): Promise<void> {
    await this.#live(waId).sendDtmf(digits, durationMs);
  }

  /**
   * What the user heard in the current or last call: packet counts, DTMF received, and with `frequencyHz`
   * a tone report (`analyseTone` over the 48 kHz recording).
   */
  analysis(waId: string, frequencyHz?: number): Record<string, unknown> {
    const user = this.users.get(waId);
    const last = user.lastSession;
    if (!last) throw new ControlError('conflict', `user ${waId} has not been in a call yet`);
    const stats = last.session.stats();
    const recording = last.session.recording();
    return {
      waCallId: last.callId,
      packetsReceived: stats.packetsReceived,
      packetsSent: stats.packetsSent,
      firstPacketReceivedAt: stats.firstPacketReceivedAt ?? null,
      lastPacketReceivedAt: stats.lastPacketReceivedAt ?? null,
      connectionState: stats.connectionState,
      dtmfReceived: stats.dtmfReceived,
      recordedMs: Math.round((recording.length / RECORDING_SAMPLE_RATE) * 1000),
      tone: frequencyHz === undefined ? null : analyseTone(recording, frequencyHz, RECORDING_SAMPLE_RATE),
    };
  }
}
