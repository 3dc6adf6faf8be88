import { buildBaresipAccount, buildBaresipConfig, parseRegInfo, type BaresipMediaEncryption } from './baresip-config';

describe('baresip config', () => {
  const registrar = { host: '127.0.0.1', port: 5070 };

  it('builds an account line with transport, credentials, answer mode and codecs', () => {
    const line = buildBaresipAccount({
      user: 'gw', password: 'pw', registrar, transport: 'tcp', answerMode: 'manual', codecs: ['PCMA'], registerIntervalS: 300,
    });
    expect(line).toBe('<sip:gw@127.0.0.1:5070;transport=tcp>;auth_pass=pw;regint=300;answermode=manual;audio_codecs=PCMA\n');
  });

  it('names G.722 with its 16 kHz rate in audio_codecs (baresip reads a bare name as 8000 Hz), and 16 kHz audio when asked', () => {
    const line = buildBaresipAccount({ user: '1001', registrar, transport: 'udp', answerMode: 'auto', codecs: ['G722', 'PCMU'], registerIntervalS: 0 });
    expect(line).toMatch(/;audio_codecs=G722\/16000\/1,PCMU\n$/);
    const config = { host: '127.0.0.1', sipPort: 5080, transport: 'udp', wavPath: '/tmp/a.wav', recordDir: '/tmp/rec', ctrlPort: 4444, consPort: 5555, rtpPortMin: 10000, rtpPortMax: 10015, modulesDir: '/usr/lib/baresip/modules' } as const;
    expect(buildBaresipConfig(config)).toMatch(/^ausrc_srate\s+8000$/m);
    const wide = buildBaresipConfig({ ...config, sampleRate: 16000 });
    expect(wide).toMatch(/^ausrc_srate\s+16000$/m);
    expect(wide).toMatch(/^auplay_srate\s+16000$/m);
    expect(wide).toMatch(/^module\s+g722\.so$/m);
  });

  it('adds mediaenc to the account only when a media encryption is asked for', () => {
    const base = { user: '1001', registrar, transport: 'udp', answerMode: 'auto', codecs: ['PCMU'], registerIntervalS: 0 } as const;
    expect(buildBaresipAccount({ ...base, mediaEncryption: 'srtp-mand' })).toBe(
      '<sip:1001@127.0.0.1:5070;transport=udp>;regint=0;answermode=auto;audio_codecs=PCMU;mediaenc=srtp-mand\n',
    );
    expect(buildBaresipAccount({ ...base, mediaEncryption: 'srtp' })).toMatch(/;mediaenc=srtp\n$/);
    expect(buildBaresipAccount(base)).not.toMatch(/mediaenc/);
  });

  it('refuses values that would break the files', () => {
    const base = { registrar, transport: 'udp', answerMode: 'auto', codecs: ['PCMU'], registerIntervalS: 0 } as const;
    expect(() => buildBaresipAccount({ ...base, user: 'a;b' })).toThrow(TypeError);
    expect(() => buildBaresipAccount({ ...base, user: 'a', password: 'p w' })).toThrow(TypeError);
    const unknown = 'zrtp' as unknown as BaresipMediaEncryption;
    expect(() => buildBaresipAccount({ ...base, user: 'a', mediaEncryption: unknown })).toThrow(TypeError);
  });

  it('loads no sound-card module, loads the SRTP module and listens where told', () => {
    const cfg = buildBaresipConfig({
      host: '127.0.0.1', sipPort: 5062, transport: 'udp', wavPath: '/x/in.wav', recordDir: '/x/rec', ctrlPort: 4444,
      consPort: 5555, rtpPortMin: 10000, rtpPortMax: 10015, modulesDir: '/m',
    });
    expect(cfg).toMatch(/^sip_listen\s+127\.0\.0\.1:5062$/m);
    expect(cfg).toMatch(/^audio_source\s+aufile,\/x\/in\.wav$/m);
    expect(cfg).toMatch(/^rtp_ports\s+10000-10015$/m);
    expect(cfg).not.toMatch(/alsa|pulse|gtk|x11/);
    expect(cfg).toMatch(/^module\s+srtp\.so$/m);
  });

  it('reads the registration state from reginfo output with colour codes', () => {
    const ok = '\n--- User Agents (1) ---\n> sip:1001@127.0.0.1:5070   \u001b[32mOK \u001b[;m  Expires 299s\n';
    const off = '\n--- User Agents (1) ---\n> sip:1001@127.0.0.1:5070   \u001b[33mzzz\u001b[;m  Expires 0s\n';
    expect(parseRegInfo(ok, 'sip:1001@127.0.0.1:5070')).toBe(true);
    expect(parseRegInfo(off, 'sip:1001@127.0.0.1:5070')).toBe(false);
    expect(parseRegInfo(ok, 'sip:1002@127.0.0.1:5070')).toBe(false);
  });
});
