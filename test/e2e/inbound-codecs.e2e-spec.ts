import type { CallRecord } from '@wagw/call-state';
import { BridgeRegistry } from '../../apps/media/src/sessions/bridge-registry';
import { eventually, startStack } from '../support/stack';
import { e2eScope } from '../support/e2e-scope';
import type { EchoCodec } from '../support/rtp-echo-peer';
import { startEchoPbx, type EchoPbx } from '../support/echo-pbx';

/**
 * Codec choice on the PBX leg (issue 3, "done when"): the gateway offers Opus, PCMU, PCMA and G.722; the PBX's
 * answer decides. SIPp answers with one codec and points the media at an RTP peer that echoes what it gets,
 * so the WhatsApp user's 1 kHz tone crosses the bridge twice. A PBX that takes Opus gets the user's Opus
 * packets passed through under the payload type of its answer (not ours, 111); one that takes only PCMU or
 * only PCMA gets G.711 (20 ms, 160 bytes) that decodes to the tone, one that takes only G.722 gets G.722, and
 * the CDR names the codec.
 */
const BUSINESS = '15550001111';
const USER = '15552225555';

interface CodecCase {
  peer: string;
  pt: number;
  rtpmap: string;
  codec: EchoCodec;
  mode: 'passthrough' | 'transcode';
  /** RTP payload bytes per 20 ms packet when fixed (G.711), else undefined. */
  payloadBytes?: number;
}

const CASES: CodecCase[] = [
  { peer: 'that answers with Opus (payload type 107)', pt: 107, rtpmap: 'opus/48000/2', codec: 'opus', mode: 'passthrough' },
  { peer: 'that takes only PCMU', pt: 0, rtpmap: 'PCMU/8000', codec: 'PCMU', mode: 'transcode', payloadBytes: 160 },
  { peer: 'that takes only PCMA', pt: 8, rtpmap: 'PCMA/8000', codec: 'PCMA', mode: 'transcode', payloadBytes: 160 },
  // wideband: 160 bytes per 20 ms too (two 16 kHz samples per byte), on the 8000 Hz RTP clock of RFC 3551
  { peer: 'that takes only G.722', pt: 9, rtpmap: 'G722/8000', codec: 'G722', mode: 'transcode', payloadBytes: 160 },
];

describe.each(CASES)('the PBX leg against a PBX $peer', (c) => {
  const t = e2eScope<EchoPbx>('wagw-inbound-codecs-');

  it(`bridges with ${c.mode} (${c.codec}) and the tone survives both ways`, async () => {
    const pbx = (t.pbx = await startEchoPbx({ answer: { pt: c.pt, rtpmap: c.rtpmap } }));
    const echo = pbx.echo;
    const s = (t.stack = await startStack({ name: `inbound-codecs-${c.codec}`, env: pbx.env(BUSINESS, { codecs: ['opus', 'PCMU', 'PCMA', 'G722'] }) }));
    await s.emu('POST', '/emulator/users', { waId: USER, name: 'Kim' });

    const { waCallId } = await s.emu<{ waCallId: string }>('POST', `/emulator/users/${USER}/call`, {});
    await s.emu('POST', `/emulator/users/${USER}/media/tone`, { frequencyHz: 1000 });
    const call = await eventually('call active', async () => {
      const res = await s.api('GET', `/v1/calls/${waCallId}`);
      const rec = res.body as CallRecord;
      return res.status === 200 && rec.state === 'active' ? rec : undefined;
    }, 20_000);

    expect(call.codec).toBe(c.codec);
    // `active` is recorded once WhatsApp took the accept; the bridge starts right after
    const mode = await eventually('bridge started', async () => s.media.app.get(BridgeRegistry).statsOf(call.callId)?.mode);
    expect(mode).toBe(c.mode);
    const atPbx = await eventually('1 kHz at the PBX', async () => {
      const r = echo.heard(c.codec, c.pt, 1000);
      return r && r.framesWithTone >= 25 ? r : undefined;
    }, 15_000, 250);
    expect(atPbx.framesWithTone).toBeGreaterThanOrEqual(25);
    const received = echo.received();
    // every media packet carries the payload type of the PBX's answer (RFC 3264 §6.1: the answerer's number)
    expect([...new Set(received.filter((p) => p.payloadType !== 101).map((p) => p.payloadType))]).toEqual([c.pt]);
    if (c.payloadBytes) expect(new Set(received.map((p) => p.payload.length))).toEqual(new Set([c.payloadBytes]));
    const atUser = await eventually('the echoed 1 kHz at the WhatsApp user', async () => {
      const a = await s.emu<{ tone: { framesWithTone: number } | null }>('GET', `/emulator/users/${USER}/media/analysis?frequencyHz=1000`);
      return a.tone && a.tone.framesWithTone >= 25 ? a.tone : undefined;
    }, 15_000, 250);
    expect(atUser.framesWithTone).toBeGreaterThanOrEqual(25);
    const bridged = s.media.app.get(BridgeRegistry).statsOf(call.callId);
    expect(bridged?.waToPbx.packetsOut).toBeGreaterThan(0);
    expect(bridged?.pbxToWa.packetsOut).toBeGreaterThan(0);

    await s.emu('POST', `/emulator/users/${USER}/hangup`);
    const cdr = await eventually('CDR', async () => {
      const rec = (await s.api('GET', `/v1/calls/${call.callId}`)).body as CallRecord;
      return rec.state === 'ended' ? rec : undefined;
    });
    expect(cdr).toMatchObject({ codec: c.codec, endedBy: 'wa' });
    // the CDR keeps what each side sent (from the bridge, noted once the media legs are closed): at least what
    // the bridge had counted mid-call, with the loss and jitter of a loopback path
    const withMedia = await eventually('the call media on the CDR', async () => {
      const rec = (await s.api('GET', `/v1/calls/${call.callId}`)).body as CallRecord;
      return rec.mediaMode !== undefined ? rec : undefined;
    });
    expect(withMedia.mediaMode).toBe(c.mode);
    expect(withMedia.waPacketsReceived).toBeGreaterThanOrEqual(bridged!.waToPbx.packetsIn);
    expect(withMedia.pbxPacketsReceived).toBeGreaterThanOrEqual(bridged!.pbxToWa.packetsIn);
    expect(withMedia.waPacketsLost).toBeLessThanOrEqual(Math.ceil(withMedia.waPacketsReceived! * 0.02));
    expect(withMedia.pbxPacketsLost).toBeLessThanOrEqual(Math.ceil(withMedia.pbxPacketsReceived! * 0.02));
    expect(withMedia.waJitterMs).toBeLessThan(40);
    expect(withMedia.pbxJitterMs).toBeLessThan(40);
    const sipp = await pbx.sipp.result();
    expect({ exit: sipp.exitCode, errors: sipp.errors }).toEqual({ exit: 0, errors: '' });
  });
});
