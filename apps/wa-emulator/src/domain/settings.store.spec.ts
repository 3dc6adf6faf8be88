import { Clock } from './clock';
import { GraphError } from './emulator.errors';
import { UPLOADED_MEDIA_TTL_MS } from './media-upload.flow';
import { MediaStore } from './media.store';
import { DEFAULT_CALLING_SETTINGS, SettingsStore } from './settings.store';

function details(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof GraphError && err.metaCode === 100) return err.errorData?.details;
    throw err;
  }
  return undefined;
}

/** A SettingsStore over its own MediaStore (where voicemail announcements are looked up). */
const newStore = (media = new MediaStore(new Clock())): SettingsStore => new SettingsStore(media);

const hours = (entries: { day_of_week: string; open_time: string; close_time: string }[]) => ({
  calling: { call_hours: { status: 'ENABLED', timezone_id: 'Europe/Berlin', weekly_operating_hours: entries } },
});

describe('SettingsStore', () => {
  it('starts with calling enabled and the callback permission disabled', () => {
    const s = newStore();
    expect(s.calling()).toEqual(DEFAULT_CALLING_SETTINGS);
    expect([s.callingEnabled(), s.callbackPermissionEnabled(), s.sipEnabled()]).toEqual([true, false, false]);
  });

  it('replaces the keys a POST sends and keeps the others, unknown keys included', () => {
    const s = newStore();
    s.update({ calling: { callback_permission_status: 'ENABLED', future_flag: { x: 1 } } });
    expect(s.calling()).toMatchObject({ status: 'ENABLED', callback_permission_status: 'ENABLED', future_flag: { x: 1 } });
    expect(s.callbackPermissionEnabled()).toBe(true);
  });

  it('refuses bad call hours: overlaps, more than 2 entries a day, open after close, bad times', () => {
    const s = newStore();
    expect(details(() => s.update(hours([{ day_of_week: 'MONDAY', open_time: '0800', close_time: '1200' }, { day_of_week: 'MONDAY', open_time: '1100', close_time: '1300' }])))).toMatch(/overlapping/);
    const three = ['0100', '0300', '0500'].map((t) => ({ day_of_week: 'TUESDAY', open_time: t, close_time: `0${Number(t[1]) + 1}00` }));
    expect(details(() => s.update(hours(three)))).toMatch(/more than 2/);
    expect(details(() => s.update(hours([{ day_of_week: 'FRIDAY', open_time: '1800', close_time: '0900' }])))).toMatch(/before close_time/);
    expect(details(() => s.update(hours([{ day_of_week: 'FRIDAY', open_time: '8am', close_time: '1700' }])))).toMatch(/HHMM/);
    expect(details(() => s.update(hours([])))).toMatch(/must not be empty/);
    expect(s.calling()).not.toHaveProperty('call_hours');
  });

  it('SIP needs a server while ENABLED; disabling keeps the configured servers', () => {
    const s = newStore();
    expect(details(() => s.update({ calling: { sip: { status: 'ENABLED' } } }))).toMatch(/at least one server/);
    s.update({ calling: { sip: { status: 'ENABLED', servers: [{ hostname: 'sip.example.com', port: 5061 }] } } });
    expect(s.sipEnabled()).toBe(true);
    s.update({ calling: { sip: { status: 'DISABLED' } } });
    expect(s.calling()['sip']).toEqual({ status: 'DISABLED', servers: [{ hostname: 'sip.example.com', port: 5061 }] });
  });

  it('refuses a body without a calling object', () => {
    expect(details(() => newStore().update({ status: 'ENABLED' }))).toMatch(/calling/);
  });
});

/** The voicemail block of reference §5.1 (CS-2606), with the given announcement. */
const voicemailBlock = (announcementMediaId: unknown) => ({
  status: 'ENABLED',
  triggers: ['REJECT', 'TIMEOUT'],
  audio: { default: { announcement_media_id: announcementMediaId, timeout_seconds: 20 } },
});
const voicemail = (block: Record<string, unknown>, calling: Record<string, unknown> = {}) => ({ calling: { ...calling, voicemail: block } });
const ANNOUNCEMENT_FIELD = 'calling.voicemail.audio.default.announcement_media_id';

describe('SettingsStore: voicemail (reference §5.1)', () => {
  let media: MediaStore;
  /** An announcement the business uploaded (POST /<PHONE_NUMBER_ID>/media with use_case=call_voicemail_announcement). */
  let announcementId: string;
  /** The reference's block, its announcement that upload. */
  let VOICEMAIL: ReturnType<typeof voicemailBlock>;

  beforeEach(() => {
    media = new MediaStore(new Clock());
    announcementId = media.put(Buffer.from('OggS announcement'), 'audio/ogg', { useCase: 'call_voicemail_announcement' }).id;
    VOICEMAIL = voicemailBlock(announcementId);
  });

  it("stores the reference's voicemail block as sent and returns it; it is in effect with both triggers", () => {
    const s = newStore(media);
    s.update(voicemail(VOICEMAIL));
    expect(s.calling()['voicemail']).toEqual(VOICEMAIL);
    expect(s.voicemail()).toEqual({ triggers: ['REJECT', 'TIMEOUT'], timeoutSeconds: 20, timeoutIgnored: false });
  });

  it('status is required and must be ENABLED or DISABLED; DISABLED (or no block) means no voicemail', () => {
    const s = newStore(media);
    expect(details(() => s.update(voicemail({ triggers: ['REJECT'] })))).toBe('calling.voicemail.status: must be "ENABLED" or "DISABLED"');
    expect(details(() => s.update(voicemail({ ...VOICEMAIL, status: 'ON' })))).toBe('calling.voicemail.status: must be "ENABLED" or "DISABLED"');
    expect(s.voicemail()).toBeUndefined();
    s.update(voicemail({ ...VOICEMAIL, status: 'DISABLED' }));
    expect(s.voicemail()).toBeUndefined();
  });

  it('triggers are REJECT and TIMEOUT only', () => {
    const s = newStore(media);
    expect(details(() => s.update(voicemail({ ...VOICEMAIL, triggers: ['REJECT', 'BUSY'] })))).toBe('calling.voicemail.triggers.1: must be "REJECT" or "TIMEOUT"');
    expect(details(() => s.update(voicemail({ ...VOICEMAIL, triggers: 'REJECT' })))).toMatch(/^calling\.voicemail\.triggers: /);
    s.update(voicemail({ status: 'ENABLED', triggers: ['REJECT'] }));
    expect(s.voicemail()?.triggers).toEqual(['REJECT']);
  });

  it('audio.default.announcement_media_id is a media id: a positive integer or a string of digits', () => {
    const s = newStore(media);
    const withMedia = (id: unknown) => voicemail(voicemailBlock(id));
    for (const bad of ['media-1', -5, 1.5, '']) {
      expect(details(() => s.update(withMedia(bad)))).toBe(`${ANNOUNCEMENT_FIELD}: a media id (a positive integer or a string of digits)`);
    }
    s.update(withMedia(announcementId));
    expect(s.calling()['voicemail']).toMatchObject({ audio: { default: { announcement_media_id: announcementId } } });
    s.update(withMedia(Number(announcementId)));
    expect(s.calling()['voicemail']).toMatchObject({ audio: { default: { announcement_media_id: Number(announcementId) } } });
  });

  it('audio.default.announcement_media_id must be an upload with use_case call_voicemail_announcement; refused, nothing is stored', () => {
    const s = newStore(media);
    const recording = media.put(Buffer.from('OggS voicemail'), 'audio/ogg; codecs=opus').id;
    const plainUpload = media.put(Buffer.from('ID3'), 'audio/mpeg', { ttlMs: UPLOADED_MEDIA_TTL_MS }).id;

    expect(details(() => s.update(voicemail(voicemailBlock(938884519013664))))).toBe(
      `${ANNOUNCEMENT_FIELD}: media 938884519013664 was not uploaded (POST /<PHONE_NUMBER_ID>/media with use_case=call_voicemail_announcement) or has expired`,
    );
    expect(details(() => s.update(voicemail(voicemailBlock(recording))))).toBe(`${ANNOUNCEMENT_FIELD}: media ${recording} was not uploaded with use_case=call_voicemail_announcement`);
    expect(details(() => s.update(voicemail({ status: 'DISABLED', audio: { default: { announcement_media_id: plainUpload } } })))).toBe(
      `${ANNOUNCEMENT_FIELD}: media ${plainUpload} was not uploaded with use_case=call_voicemail_announcement`,
    );
    expect(s.calling()).toEqual(DEFAULT_CALLING_SETTINGS);
  });

  it('audio.default.timeout_seconds is whole seconds 0-30', () => {
    const s = newStore(media);
    const withTimeout = (t: unknown) => voicemail({ ...VOICEMAIL, audio: { default: { timeout_seconds: t } } });
    for (const bad of [-1, 31, 2.5, '20']) {
      expect(details(() => s.update(withTimeout(bad)))).toBe('calling.voicemail.audio.default.timeout_seconds: whole seconds 0-30');
    }
    s.update(withTimeout(0));
    expect(s.voicemail()?.timeoutSeconds).toBe(0);
    s.update(withTimeout(30));
    expect(s.voicemail()).toEqual({ triggers: ['REJECT', 'TIMEOUT'], timeoutSeconds: 30, timeoutIgnored: false });
  });

  it('TIMEOUT without timeout_seconds is accepted and stored, but counts as disabled', () => {
    const s = newStore(media);
    s.update(voicemail({ status: 'ENABLED', triggers: ['REJECT', 'TIMEOUT'], audio: { default: { announcement_media_id: announcementId } } }));
    expect(s.calling()['voicemail']).toMatchObject({ triggers: ['REJECT', 'TIMEOUT'] });
    expect(s.voicemail()).toEqual({ triggers: ['REJECT'], timeoutSeconds: undefined, timeoutIgnored: true });
  });

  it('voicemail needs calling: ENABLED is refused while calling.status is (or becomes) DISABLED, and nothing is stored', () => {
    const s = newStore(media);
    expect(details(() => s.update(voicemail(VOICEMAIL, { status: 'DISABLED' })))).toBe('calling.voicemail.status: voicemail needs calling (calling.status ENABLED)');
    expect(s.calling()).toEqual(DEFAULT_CALLING_SETTINGS);
    s.update({ calling: { status: 'DISABLED' } });
    expect(details(() => s.update(voicemail(VOICEMAIL)))).toMatch(/voicemail needs calling/);
    s.update(voicemail({ ...VOICEMAIL, status: 'DISABLED' }));
    expect(s.calling()['voicemail']).toMatchObject({ status: 'DISABLED' });
    s.update(voicemail(VOICEMAIL, { status: 'ENABLED' }));
    expect(s.voicemail()).toBeDefined();
  });

  it('reset drops the voicemail block', () => {
    const s = newStore(media);
    s.update(voicemail(VOICEMAIL));
    s.reset();
    expect(s.calling()).not.toHaveProperty('voicemail');
    expect(s.voicemail()).toBeUndefined();
  });
});
