import { loadConfig } from '@wagw/config';
import type { Logger } from '@wagw/logging';
import { GraphApiError, GraphUnreachableError, type NumberCallingSettings, type WhatsAppGraphClient } from '@wagw/whatsapp';
import { toneAsOggOpus } from '@wagw/media-bridge';
import { AnnouncementRefusedError, SettingsRefusedError, WhatsAppSettingsService } from './whatsapp-settings.service';

interface Line {
  level: string;
  obj: Record<string, unknown>;
  msg: string;
}

function recordingLogger(lines: Line[]): Logger {
  const at =
    (level: string) =>
    (obj: object | string, msg?: string): void =>
      void lines.push(typeof obj === 'string' ? { level, obj: {}, msg: obj } : { level, obj: obj as Record<string, unknown>, msg: msg ?? '' });
  const logger: Logger = { trace: at('trace'), debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), fatal: at('fatal'), child: () => logger };
  return logger;
}

const SIP_ON = { status: 'ENABLED', sip: { status: 'ENABLED', servers: [{ hostname: 'sip.example.com' }] } };

function setup(graph: Partial<Record<'getCallingSettings' | 'updateCallingSettings' | 'uploadMedia', (...args: unknown[]) => Promise<unknown>>>) {
  const lines: Line[] = [];
  const sent: unknown[] = [];
  const client = {
    getCallingSettings: graph.getCallingSettings ?? (async () => ({ raw: { status: 'ENABLED' } })),
    updateCallingSettings: async (u: unknown) => {
      sent.push(u);
      return graph.updateCallingSettings?.(u);
    },
    uploadMedia: async (u: unknown) => {
      sent.push(u);
      return graph.uploadMedia ? graph.uploadMedia(u) : { mediaId: '9001' };
    },
  } as unknown as WhatsAppGraphClient;
  const config = loadConfig({ env: { WHATSAPP_PHONE_NUMBER_ID: '106540352242922' } });
  const service = new WhatsAppSettingsService(client, recordingLogger(lines), () => 1_000, config);
  return { service, lines, sent };
}

describe('WhatsAppSettingsService', () => {
  it("reads Meta's block with the restrictions and the advice on them", async () => {
    const settings: NumberCallingSettings = { raw: SIP_ON, restrictions: [{ type: 'RESTRICTED_USER_INITIATED_CALLING', expiresAt: 5_000 }] };
    const { service } = setup({ getCallingSettings: async () => settings });
    const view = await service.read();
    expect(view).toMatchObject({ phoneNumberId: '106540352242922', calling: SIP_ON, restrictions: settings.restrictions, readAt: 1_000 });
    expect(view.advice.map((a) => a.code)).toEqual(['SIP_MODE_ENABLED', 'CALLING_RESTRICTED']);
  });

  it("sends a calling block as it is and answers what Meta has after it", async () => {
    let stored: Record<string, unknown> = { status: 'ENABLED' };
    const { service, sent } = setup({
      getCallingSettings: async () => ({ raw: stored }),
      updateCallingSettings: async (u) => void (stored = { ...stored, ...(u as { extra: Record<string, unknown> }).extra }),
    });
    const calling = { voicemail: { status: 'ENABLED', triggers: ['TIMEOUT'] } };
    const view = await service.update(calling);
    expect(sent).toEqual([{ extra: calling }]);
    expect(view.calling).toEqual({ status: 'ENABLED', ...calling });
    expect(view.advice.map((a) => a.code)).toEqual(['VOICEMAIL_TIMEOUT_IGNORED']);
  });

  it("turns Meta's refusal of a value (code 100) into a 400 with Meta's reason, and passes other failures on", async () => {
    const refusal = new GraphApiError('invalid_parameter', 'invalid parameter', { httpStatus: 400, metaCode: 100, fbtraceId: 'AbC', errorData: { details: 'calling.voicemail.audio.default.timeout_seconds: 0-30' } });
    const { service, lines } = setup({ updateCallingSettings: () => Promise.reject(refusal) });
    const err = await service.update({ voicemail: { audio: { default: { timeout_seconds: 99 } } } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SettingsRefusedError);
    expect(err).toMatchObject({ code: 'WA_SETTINGS_REFUSED', httpStatus: 400, message: 'WhatsApp refused the calling settings: calling.voicemail.audio.default.timeout_seconds: 0-30', details: { metaCode: 100, fbtraceId: 'AbC' } });
    expect(lines.filter((l) => l.level === 'warn').map((l) => l.msg)).toEqual(['WhatsApp refused the calling settings change']);

    const down = new GraphUnreachableError('settings.update', 'ECONNREFUSED', undefined);
    const other = setup({ updateCallingSettings: () => Promise.reject(down) });
    await expect(other.service.update({ status: 'ENABLED' })).rejects.toBe(down);
  });

  it('logs at start-up what stops calls as warnings and the rest in one line', async () => {
    const { service, lines } = setup({ getCallingSettings: async () => ({ raw: { ...SIP_ON, call_icon_visibility: 'DISABLE_ALL' } }) });
    await service.onApplicationBootstrap();
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      ['info', 'WhatsApp calling settings read'],
      ['warn', expect.stringMatching(/^WhatsApp calling settings: calling\.sip\.status is ENABLED: Meta sends this number's calls to SIP servers \(sip\.example\.com\)/)],
    ]);
    expect(lines[0]?.obj).toMatchObject({ status: 'ENABLED', notices: [expect.stringMatching(/DISABLE_ALL/)] });
  });

  it('goes on when Meta cannot be asked at start-up, saying so, and does not wait more than 5 s', async () => {
    const failing = setup({ getCallingSettings: () => Promise.reject(new GraphUnreachableError('settings.get', 'ECONNREFUSED', undefined)) });
    await failing.service.onApplicationBootstrap();
    expect(failing.lines.map((l) => [l.level, l.msg])).toEqual([['warn', 'WhatsApp calling settings could not be read at start-up (GET /v1/admin/whatsapp-settings reads them)']]);

    jest.useFakeTimers();
    try {
      const silent = setup({ getCallingSettings: () => new Promise(() => undefined) });
      const done = silent.service.onApplicationBootstrap();
      await jest.advanceTimersByTimeAsync(5_000);
      await done;
      expect(silent.lines.map((l) => l.msg)).toEqual(['WhatsApp calling settings not read at start-up: Meta did not answer in time (GET /v1/admin/whatsapp-settings reads them)']);
    } finally {
      jest.useRealTimers();
    }
  });

  describe('voicemail announcement', () => {
    const greeting = toneAsOggOpus({ frequencyHz: 500, durationS: 3 });

    it('uploads an Ogg Opus file under 60 s as a voicemail announcement and says how long it is', async () => {
      const { service, sent } = setup({});
      await expect(service.uploadAnnouncement(greeting, false)).resolves.toEqual({ mediaId: '9001', durationS: 3, applied: false });
      expect(sent).toEqual([{ bytes: greeting, mimeType: 'audio/ogg', fileName: 'voicemail-announcement.ogg', useCase: 'call_voicemail_announcement' }]);
    });

    it('with apply, names it in the voicemail settings and keeps the rest of the block', async () => {
      let stored: Record<string, unknown> = { status: 'ENABLED', voicemail: { status: 'ENABLED', triggers: ['TIMEOUT'], audio: { default: { timeout_seconds: 20 } } } };
      const { service, sent } = setup({
        getCallingSettings: async () => ({ raw: stored }),
        updateCallingSettings: async (u) => void (stored = { ...stored, ...(u as { extra: Record<string, unknown> }).extra }),
      });
      const done = await service.uploadAnnouncement(greeting, true);
      expect(done).toMatchObject({ mediaId: '9001', applied: true, settings: { calling: { voicemail: { status: 'ENABLED', triggers: ['TIMEOUT'], audio: { default: { timeout_seconds: 20, announcement_media_id: '9001' } } } } } });
      expect(sent[1]).toEqual({ extra: { voicemail: { status: 'ENABLED', triggers: ['TIMEOUT'], audio: { default: { timeout_seconds: 20, announcement_media_id: '9001' } } } } });
    });

    it('refuses what Meta would not take, and apply without voicemail settings, before uploading anything', async () => {
      const { service, sent } = setup({});
      const refusal = async (bytes: Buffer, apply = false): Promise<unknown> => service.uploadAnnouncement(bytes, apply).catch((e: unknown) => e);
      await expect(refusal(Buffer.alloc(0))).resolves.toMatchObject({ code: 'ANNOUNCEMENT_INVALID', httpStatus: 400, message: expect.stringMatching(/^no audio in the request body/) });
      await expect(refusal(Buffer.from('RIFF....WAVEfmt '))).resolves.toMatchObject({ code: 'ANNOUNCEMENT_INVALID', message: expect.stringMatching(/^not an Ogg Opus file \(Meta takes only audio\/ogg Opus\): no Ogg page at byte 0/) });
      await expect(refusal(toneAsOggOpus({ frequencyHz: 500, durationS: 60 }))).resolves.toMatchObject({ code: 'ANNOUNCEMENT_INVALID', message: 'the announcement lasts 60.0 s: Meta takes under 60 s' });
      const noVoicemail = await refusal(greeting, true);
      expect(noVoicemail).toBeInstanceOf(AnnouncementRefusedError);
      expect(noVoicemail).toMatchObject({ code: 'NO_VOICEMAIL_SETTINGS', httpStatus: 409 });
      expect(sent).toEqual([]);
    });
  });
});
