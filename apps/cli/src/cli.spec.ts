import { silentLogger } from '@wagw/logging';
import { parseArgs } from './cli-args';
import { readCliEnv } from './cli-env';
import { runCli } from './cli';
import { errorText } from './http-client';
import { parseOptionsTarget } from './sip-options';
import { age, table } from './table';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { callLines, permissionLines, registrationRow, type TrunkView } from './commands';

function io() {
  const out: string[] = [];
  const err: string[] = [];
  const files = new Map<string, Buffer>();
  const writeFile = async (path: string, bytes: Buffer): Promise<void> => void files.set(path, bytes);
  const readFile = async (path: string): Promise<Buffer> => {
    const f = files.get(path);
    if (!f) throw new Error(`ENOENT: no such file, open '${path}'`);
    return f;
  };
  return { out, err, files, io: { stdout: (t: string) => void out.push(t), stderr: (t: string) => void err.push(t), writeFile, readFile, logger: silentLogger() } };
}

const env = readCliEnv({});

describe('parseArgs', () => {
  it('reads positionals, --name value, --name=value and flags', () => {
    const a = parseArgs(['test-call', '1555', '--agent', '1001', '--url=http://x:1', '--json', '-h']);
    expect(a.positionals).toEqual(['test-call', '1555']);
    expect(Object.fromEntries(a.options)).toEqual({ agent: '1001', url: 'http://x:1' });
    expect([...a.flags].sort()).toEqual(['help', 'json']);
  });

  it('refuses unknown options, a value option without a value and a flag with one', () => {
    expect(() => parseArgs(['calls', '--verbose'])).toThrow('unknown option --verbose');
    expect(() => parseArgs(['test-call', '1', '--agent'])).toThrow('--agent needs a value');
    expect(() => parseArgs(['calls', '--json=yes'])).toThrow('--json takes no value');
  });
});

describe('readCliEnv', () => {
  it('defaults to the local gateway and emulator and takes WAGW_* variables', () => {
    expect(readCliEnv({})).toEqual({ url: 'http://127.0.0.1:8080', token: undefined, emulatorUrl: 'http://127.0.0.1:8090' });
    expect(readCliEnv({ WAGW_URL: 'https://gw.example.com/', WAGW_TOKEN: 't0k', WAGW_EMULATOR_URL: 'http://emu:1' })).toEqual({
      url: 'https://gw.example.com',
      token: 't0k',
      emulatorUrl: 'http://emu:1',
    });
  });

  it('names the variable of a bad URL', () => {
    expect(() => readCliEnv({ WAGW_URL: 'gw:8080' })).toThrow(/WAGW_URL must be an http:\/\/ or https:\/\/ URL/);
  });
});

describe('parseOptionsTarget', () => {
  it('takes host:port, a host alone (5060) and SIP URIs with a transport parameter', () => {
    expect(parseOptionsTarget('10.0.0.5:5070', undefined)).toEqual({ uri: 'sip:10.0.0.5:5070', host: '10.0.0.5', port: 5070, transport: 'udp' });
    expect(parseOptionsTarget('pbx.example.com', 'tcp')).toEqual({ uri: 'sip:pbx.example.com:5060', host: 'pbx.example.com', port: 5060, transport: 'tcp' });
    expect(parseOptionsTarget('sip:1001@pbx.example.com:5080;transport=tcp', undefined)).toEqual({
      uri: 'sip:1001@pbx.example.com:5080;transport=tcp',
      host: 'pbx.example.com',
      port: 5080,
      transport: 'tcp',
    });
  });

  it('refuses what is not a target and transports other than udp/tcp', () => {
    expect(() => parseOptionsTarget('http://x', undefined)).toThrow(/not a SIP URI or host:port/);
    expect(() => parseOptionsTarget('x:99999', undefined)).toThrow(/port out of range/);
    expect(() => parseOptionsTarget('x:5060', 'tls')).toThrow(/transport must be udp or tcp/);
  });
});

describe('output helpers', () => {
  it('aligns table columns', () => {
    expect(table(['A', 'LONGER'], [['xyz', '1'], ['q', '22']])).toBe('A    LONGER\nxyz  1\nq    22');
  });

  it('prints ages in s, m and h', () => {
    expect(age(0, 12_000)).toBe('12s');
    expect(age(0, 184_000)).toBe('3m04s');
    expect(age(0, 7_500_000)).toBe('2h05m');
  });

  it("shows our API's error code, message and problems", () => {
    expect(errorText({ error: { code: 'CONFIG_INVALID', message: 'refused', problems: ['a: bad', 'b: worse'] } })).toBe('CONFIG_INVALID: refused\n  - a: bad\n  - b: worse');
    expect(errorText('<html>oops</html>')).toBe('<html>oops</html>');
  });
});

describe('runCli', () => {
  it('prints the help with exit 0', async () => {
    const h = io();
    expect(await runCli(['--help'], env, h.io)).toBe(0);
    expect(h.out.join('')).toMatch(/Usage: wagw <command>/);
  });

  it('exits 2 with the usage on an unknown command, a missing command or a bad option', async () => {
    for (const argv of [['frobnicate'], [], ['calls', '--nope']]) {
      const h = io();
      expect(await runCli(argv, env, h.io)).toBe(2);
      expect(h.err.join('')).toMatch(/Usage: wagw/);
    }
  });

  it('exits 2 when an API command has no token, and when an operand is missing', async () => {
    let h = io();
    expect(await runCli(['trunks'], env, h.io)).toBe(2);
    expect(h.err.join('')).toMatch(/no API token: set WAGW_TOKEN/);
    h = io();
    expect(await runCli(['test-call', '15551234567'], { ...env, token: 't' }, h.io)).toBe(2);
    expect(h.err.join('')).toMatch(/missing --agent/);
  });
});

describe('trunks: registering trunks (either way)', () => {
  const base: TrunkView = { name: 'pbx', transport: 'udp', optionsIntervalMs: 0, hosts: [], srtp: 'optional', codecs: ['G722', 'PCMU'], maxCalls: 30, channelsInUse: 4 };
  it('shows where the PBX registered from and how long is left, or that it is not registered; nothing for other trunks', () => {
    const now = 1_000_000;
    expect(registrationRow({ ...base, registration: { source: { address: '192.0.2.7', port: 40123 }, registeredAt: now - 90_000, expiresAt: now + 300_000 } }, now)).toEqual([
      ['pbx', '192.0.2.7:40123', 'udp', 'registered, 300 s left', '1m30s', '-', '-', 'optional', 'G722,PCMU', '4/30'],
    ]);
    expect(registrationRow({ ...base, registration: null, maxCalls: 0 }, now)).toEqual([['pbx', '(PBX registers)', 'udp', 'not registered', '-', '-', '-', 'optional', 'G722,PCMU', '-']]);
    expect(registrationRow({ ...base, registration: null, channelsInUse: null }, now)[0]?.at(-1)).toBe('?/30'); // Redis did not answer
    expect(registrationRow(base, now)).toEqual([]);
  });

  it('shows the registration of a trunk the gateway registers to, or why it failed and when it retries', () => {
    const now = 1_000_000;
    expect(registrationRow({ ...base, outboundRegistration: { state: 'registered', registeredAt: now - 60_000, expiresAt: now + 540_000, lastStatus: 200 } }, now)).toEqual([
      ['pbx', '(gateway registers)', 'udp', 'registered, 540 s left', '1m00s', '-', '-', 'optional', 'G722,PCMU', '4/30'],
    ]);
    expect(registrationRow({ ...base, outboundRegistration: { state: 'failed', registrar: '10.0.0.2:5060', lastStatus: 403, lastError: '403 Forbidden', nextAttemptAt: now + 30_000 } }, now)).toEqual([
      ['pbx', '(gateway registers) 10.0.0.2:5060', 'udp', 'not registered, retry in 30 s', '-', '-', '403 Forbidden', 'optional', 'G722,PCMU', '4/30'],
    ]);
  });
});

describe('call, hangup, transfer', () => {
  const now = Date.parse('2026-11-27T10:00:00Z');

  it('call prints the fields a call has, in reading order, and leaves out the ones it has not', () => {
    const ended = callLines(
      {
        callId: 'call_1',
        state: 'ended',
        direction: 'inbound',
        createdAt: now - 95_000,
        answeredAt: now - 90_000,
        endedAt: now - 30_000,
        durationMs: 60_000,
        userWaId: '15551234567',
        userName: 'Ana',
        entryPoint: 'call_button',
        entryPayload: 'queue=billing',
        destination: 'sip:1001@pbx',
        redirectedTo: 'sip:1002@pbx',
        waCallId: 'wacid.X',
        sipCallId: 'abc@gw',
        codec: 'PCMU',
        pbxSrtp: 'AES_CM_128_HMAC_SHA1_80',
        endedBy: 'pbx',
        endCause: 'PBX hung up',
        sipCause: '200 BYE',
        signallingInstance: 'gw-1',
        mediaMode: 'transcode',
        waPacketsReceived: 2997,
        waPacketsLost: 3,
        waJitterMs: 4,
        pbxPacketsReceived: 3000,
        pbxPacketsLost: 0,
        pbxJitterMs: 0,
      },
      now,
    );
    expect(ended.split('\n')).toEqual([
      'call:             call_1',
      'state:            ended',
      'direction:        inbound',
      'WhatsApp user:    15551234567 (Ana)',
      'placed from:      call button (payload queue=billing)',
      'PBX side:         sip:1001@pbx (redirected to sip:1002@pbx)',
      'WhatsApp call id: wacid.X',
      'SIP Call-ID:      abc@gw',
      'codec:            PCMU (SRTP AES_CM_128_HMAC_SHA1_80)',
      'created:          2026-11-27T09:58:25.000Z (1m35s ago)',
      'answered:         2026-11-27T09:58:30.000Z (1m30s ago)',
      'ended:            2026-11-27T09:59:30.000Z (30s ago)',
      'talk time:        60 s',
      'ended by:         pbx',
      'end cause:        PBX hung up',
      'SIP cause:        200 BYE',
      'media:            transcode',
      'from WhatsApp:    2997 packets, 3 lost (0.1 %), jitter 4 ms',
      'from the PBX:     3000 packets, 0 lost (0.0 %), jitter 0 ms',
    ]);
    // a live call names the signalling process holding it; one never answered has no talk time
    const live = callLines({ callId: 'call_2', state: 'permission-pending', direction: 'outbound', createdAt: now - 5000, agent: '1001', signallingInstance: 'gw-2' }, now);
    expect(live).toBe(['call:      call_2', 'state:     permission-pending', 'direction: outbound', 'PBX side:  1001', 'created:   2026-11-27T09:59:55.000Z (5s ago)', 'held by:   gw-2'].join('\n'));
  });

  it("call prints WhatsApp's duration of the call, and the pulses Meta bills for a business-initiated one", () => {
    const base = { callId: 'call_4', state: 'ended', createdAt: now - 70_000, endedAt: now, endedBy: 'wa' };
    const outbound = callLines({ ...base, direction: 'outbound', waDurationS: 56, waBillablePulses: 10 }, now).split('\n');
    expect(outbound).toContain('WhatsApp duration: 56 s (10 billed 6-second pulses)');
    const inbound = callLines({ ...base, direction: 'inbound', waDurationS: 56 }, now).split('\n');
    expect(inbound).toContain('WhatsApp duration: 56 s');
    expect(callLines({ ...base, direction: 'inbound' }, now)).not.toContain('WhatsApp duration');
  });

  it('permission prints the state, what an agent call would do, and the quotas with their next times', () => {
    const t = Date.parse('2026-11-28T08:00:00Z');
    expect(
      permissionLines({
        waId: '15551234567',
        businessNumber: '15550001111',
        state: 'declined',
        quota: { canRequest: false, left24h: 0, left7d: 1, nextRequestAt: t },
        dailyCap: { canCall: true, used: 2 },
        decision: { action: 'refuse', state: 'declined', code: 'REQUEST_LIMIT', reason: 'the user declined; one request per 24 h', retryAt: t },
      }).split('\n'),
    ).toEqual([
      'WhatsApp user:       15551234567',
      'business number:     15550001111',
      'permission:          declined',
      "an agent's call:     refused: the user declined; one request per 24 h (possible again at 2026-11-28T08:00:00Z)",
      'permission requests: 0 left in 24 h, 1 in 7 days; next one at 2026-11-28T08:00:00Z',
      'business calls:      2 connected in 24 h',
    ]);
    const granted = permissionLines({
      waId: '1',
      businessNumber: '2',
      state: 'granted-once',
      expiresAt: t,
      quota: { canRequest: true, left24h: 1, left7d: 2 },
      dailyCap: { canCall: false, used: 5, nextCallAt: t },
      decision: { action: 'call', state: 'granted-once', expiresAt: t },
    });
    expect(granted).toContain('permission:          granted-once (until 2026-11-28T08:00:00Z)');
    expect(granted).toContain("an agent's call:     placed at once (permission granted)");
    expect(granted).toContain('business calls:      5 connected in 24 h; cap reached, next call at 2026-11-28T08:00:00Z');
  });

  it('exits 2 without the call id, or without the transfer target', async () => {
    for (const [argv, missing] of [
      [['call'], 'missing <callId|waCallId>'],
      [['hangup'], 'missing <callId|waCallId>'],
      [['transfer', 'call_1'], 'missing <extension|sip-uri>'],
    ] as const) {
      const h = io();
      expect(await runCli([...argv], { ...env, token: 't' }, h.io)).toBe(2);
      expect(h.err.join('')).toContain(missing);
    }
  });

  describe('against an HTTP server standing in for the gateway', () => {
    let server: Server;
    let url: string;
    const seen: { method?: string; url?: string; auth?: string; body: string; type?: string }[] = [];
    const answers = new Map<string, { status: number; body: unknown; headers?: Record<string, string> }>();

    beforeAll(async () => {
      server = createServer((req: IncomingMessage, res) => {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          seen.push({ method: req.method, url: req.url, auth: req.headers.authorization, body, ...(req.headers['content-type'] ? { type: req.headers['content-type'] } : {}) });
          const a = answers.get(`${req.method} ${req.url}`) ?? { status: 404, body: { error: { code: 'HTTP_404', message: 'no such call' } } };
          if (Buffer.isBuffer(a.body)) res.writeHead(a.status, a.headers).end(a.body);
          else res.writeHead(a.status, { 'content-type': 'application/json' }).end(JSON.stringify(a.body));
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
    beforeEach(() => {
      seen.length = 0;
      answers.clear();
    });

    it('transfer posts the target and says who carries it out and where the outcome comes', async () => {
      answers.set('POST /v1/calls/wacid.A%2FB/transfer', { status: 202, body: { callId: 'call_9', to: '1002', heldBy: 'gw-7' } });
      const h = io();
      expect(await runCli(['transfer', 'wacid.A/B', '1002'], { ...env, url, token: 'tok' }, h.io)).toBe(0);
      expect(seen).toEqual([{ method: 'POST', url: '/v1/calls/wacid.A%2FB/transfer', auth: 'Bearer tok', body: '{"to":"1002"}', type: 'application/json' }]);
      expect(h.out.join('')).toBe('transfer of call call_9 to 1002 started by signalling process gw-7, which holds the call; the outcome comes as call.transferred or call.transfer_failed (GET /v1/events)\n');
    });

    it('voicemail saves the audio under the name the gateway gives, or --out, and says what it saved', async () => {
      const audio = Buffer.from('OggS\0\x02 recording', 'latin1');
      answers.set('GET /v1/calls/call_7/voicemail', {
        status: 200,
        body: audio,
        headers: { 'content-type': 'audio/ogg; codecs=opus', 'content-disposition': 'inline; filename="voicemail-call_7.ogg"', 'x-wa-media-id': '9001' },
      });
      let h = io();
      expect(await runCli(['voicemail', 'call_7'], { ...env, url, token: 'tok' }, h.io)).toBe(0);
      expect(seen).toEqual([{ method: 'GET', url: '/v1/calls/call_7/voicemail', auth: 'Bearer tok', body: '' }]);
      expect(h.files.get('voicemail-call_7.ogg')?.equals(audio)).toBe(true);
      expect(h.out.join('')).toBe(`saved ${audio.length} bytes of audio/ogg; codecs=opus (Meta media 9001) to voicemail-call_7.ogg\n`);

      h = io();
      expect(await runCli(['voicemail', 'call_7', '--out', '/tmp/x.ogg', '--json'], { ...env, url, token: 'tok' }, h.io)).toBe(0);
      expect([...h.files.keys()]).toEqual(['/tmp/x.ogg']);
      expect(JSON.parse(h.out.join(''))).toEqual({ file: '/tmp/x.ogg', bytes: audio.length, contentType: 'audio/ogg; codecs=opus', mediaId: '9001' });
    });

    it('cdrs follows the pages, keeps one header, and writes the CSV to --out or standard output', async () => {
      const header = 'callId,direction\r\n';
      const csvPage = (rows: string, count: number, more?: string) => ({
        status: 200,
        body: Buffer.from(header + rows),
        headers: { 'content-type': 'text/csv; charset=utf-8', 'x-cdr-count': String(count), ...(more ? { 'x-next-cursor': more } : {}) },
      });
      // a quoted field may hold a line end: the CLI counts CDRs by the gateway's X-Cdr-Count, not by lines
      answers.set('GET /v1/cdrs?format=csv&limit=1000&since=2026-11-28', csvPage('call_1,inbound\r\ncall_2,"a\r\nb"\r\n', 2, '5:call_2'));
      answers.set('GET /v1/cdrs?format=csv&limit=1000&since=2026-11-28&after=5%3Acall_2', csvPage('call_3,outbound\r\n', 1));
      let h = io();
      expect(await runCli(['cdrs', '--since', '2026-11-28', '--out', 'cdrs.csv'], { ...env, url, token: 'tok' }, h.io)).toBe(0);
      expect(seen.map((r) => r.url)).toEqual(['/v1/cdrs?format=csv&limit=1000&since=2026-11-28', '/v1/cdrs?format=csv&limit=1000&since=2026-11-28&after=5%3Acall_2']);
      expect(h.files.get('cdrs.csv')?.toString()).toBe('callId,direction\r\ncall_1,inbound\r\ncall_2,"a\r\nb"\r\ncall_3,outbound\r\n');
      expect(h.out.join('')).toBe('wrote 3 CDRs to cdrs.csv\n');

      h = io();
      expect(await runCli(['cdrs', '--since=2026-11-28'], { ...env, url, token: 'tok' }, h.io)).toBe(0);
      expect(h.out.join('')).toBe('callId,direction\r\ncall_1,inbound\r\ncall_2,"a\r\nb"\r\ncall_3,outbound\n');
      expect(h.files.size).toBe(0);

      answers.set('GET /v1/cdrs?format=csv&limit=1000&since=soon', { status: 400, body: { error: { code: 'BAD_REQUEST', message: 'since must be epoch milliseconds or an ISO 8601 date-time' } } });
      h = io();
      expect(await runCli(['cdrs', '--since', 'soon'], { ...env, url, token: 'tok' }, h.io)).toBe(1);
      expect(h.err.join('')).toContain('HTTP 400: BAD_REQUEST: since must be epoch milliseconds');
    });

    it("voicemail says why there is none and writes nothing", async () => {
      answers.set('GET /v1/calls/call_8/voicemail', { status: 410, body: { error: { code: 'VOICEMAIL_EXPIRED', message: 'Meta no longer has voicemail 9 of call call_8' } } });
      const h = io();
      expect(await runCli(['voicemail', 'call_8'], { ...env, url, token: 'tok' }, h.io)).toBe(1);
      expect(h.err.join('')).toBe('wagw voicemail: gateway answered GET /v1/calls/call_8/voicemail with HTTP 410: VOICEMAIL_EXPIRED: Meta no longer has voicemail 9 of call call_8\n');
      expect(h.files.size).toBe(0);
    });

    it('whatsapp-settings prints the settings and the advice; --file posts the block it holds', async () => {
      const view = {
        phoneNumberId: '106540352242922',
        calling: { status: 'ENABLED', call_icon_visibility: 'DEFAULT', sip: { status: 'ENABLED' }, voicemail: { status: 'ENABLED' } },
        restrictions: [],
        advice: [{ level: 'warning', code: 'SIP_MODE_ENABLED', message: 'calling.sip.status is ENABLED: set it DISABLED' }],
        readAt: 1,
      };
      answers.set('GET /v1/admin/whatsapp-settings', { status: 200, body: view });
      answers.set('POST /v1/admin/whatsapp-settings', { status: 200, body: { ...view, advice: [] } });
      let h = io();
      expect(await runCli(['whatsapp-settings'], { ...env, url, token: 'tok' }, h.io)).toBe(0);
      expect(h.out.join('')).toBe(
        ['phone number id: 106540352242922', 'calling:         ENABLED', 'call icon:       DEFAULT', 'voicemail:       ENABLED', 'SIP mode:        ENABLED', 'WARNING: calling.sip.status is ENABLED: set it DISABLED', ''].join('\n'),
      );

      h = io();
      h.files.set('s.json', Buffer.from('{"calling": {"sip": {"status": "DISABLED"}}}'));
      h.files.set('bare.json', Buffer.from('{"status": "ENABLED"}'));
      expect(await runCli(['whatsapp-settings', '--file', 's.json'], { ...env, url, token: 'tok' }, h.io)).toBe(0);
      expect(await runCli(['whatsapp-settings', '--file', 'bare.json'], { ...env, url, token: 'tok' }, h.io)).toBe(0);
      expect(seen.slice(1).map((r) => [r.method, r.url, r.body])).toEqual([
        ['POST', '/v1/admin/whatsapp-settings', '{"calling":{"sip":{"status":"DISABLED"}}}'],
        ['POST', '/v1/admin/whatsapp-settings', '{"calling":{"status":"ENABLED"}}'],
      ]);
      expect(h.out.join('')).toContain('nothing to note: calls can come in and go out');

      h = io();
      h.files.set('bad.json', Buffer.from('[1, 2]'));
      expect(await runCli(['whatsapp-settings', '--file', 'bad.json'], { ...env, url, token: 'tok' }, h.io)).toBe(2);
      expect(await runCli(['whatsapp-settings', '--file', 'missing.json'], { ...env, url, token: 'tok' }, h.io)).toBe(2);
      expect(h.err.join('')).toMatch(/--file bad\.json: expected a JSON object[\s\S]*--file missing\.json: ENOENT/);
    });

    it('voicemail-announcement uploads the file as audio/ogg, with --apply when asked, and says what became of it', async () => {
      answers.set('POST /v1/admin/whatsapp-voicemail-announcement', { status: 201, body: { mediaId: '777', durationS: 4.2, applied: false } });
      answers.set('POST /v1/admin/whatsapp-voicemail-announcement?apply=true', { status: 201, body: { mediaId: '778', durationS: 4.2, applied: true } });
      const h = io();
      h.files.set('greeting.ogg', Buffer.from('OggS greeting'));
      expect(await runCli(['voicemail-announcement', 'greeting.ogg'], { ...env, url, token: 'tok' }, h.io)).toBe(0);
      expect(await runCli(['voicemail-announcement', 'greeting.ogg', '--apply'], { ...env, url, token: 'tok' }, h.io)).toBe(0);
      expect(seen.map((r) => [r.url, r.type, r.body])).toEqual([
        ['/v1/admin/whatsapp-voicemail-announcement', 'audio/ogg', 'OggS greeting'],
        ['/v1/admin/whatsapp-voicemail-announcement?apply=true', 'audio/ogg', 'OggS greeting'],
      ]);
      expect(h.out.join('')).toBe(
        'announcement uploaded: media 777 (4.2 s); name it in calling.voicemail.audio.default.announcement_media_id, or upload again with --apply\n' +
          'announcement uploaded: media 778 (4.2 s); the voicemail settings name it now\n',
      );
      expect(await runCli(['voicemail-announcement', 'missing.ogg'], { ...env, url, token: 'tok' }, h.io)).toBe(2);
      expect(await runCli(['voicemail-announcement'], { ...env, url, token: 'tok' }, h.io)).toBe(2);
    });

    it("hangup prints how the call ended; the gateway's refusal exits 1 with its message", async () => {
      answers.set('POST /v1/calls/call_3/hangup', {
        status: 200,
        body: { callId: 'call_3', state: 'ended', direction: 'inbound', createdAt: 1, answeredAt: 2, durationMs: 42_400, endedBy: 'api', endCause: 'hung up through the API' },
      });
      let h = io();
      expect(await runCli(['hangup', 'call_3'], { ...env, url, token: 'tok' }, h.io)).toBe(0);
      expect(h.out.join('')).toBe('call call_3 ended (by api: hung up through the API), talk time 42 s\n');

      h = io();
      expect(await runCli(['hangup', 'call_404'], { ...env, url, token: 'tok' }, h.io)).toBe(1);
      expect(h.err.join('')).toBe('wagw hangup: gateway answered POST /v1/calls/call_404/hangup with HTTP 404: HTTP_404: no such call\n');
    });
  });
});
