import { join } from 'node:path';
import { analyseTone, type ToneReport } from '@wagw/media-bridge';
import { createSelfSignedCert, freeTcpPort, readWav, startBaresip, startKamailio, writeSineWav, type BaresipCodec, type BaresipHandle, type BaresipMediaEncryption, type KamailioHandle } from '@wagw/testing';
import type { Env } from '@wagw/config';
import { eventually } from './stack';

export interface DemoPbx {
  kamailio: KamailioHandle;
  phone: BaresipHandle;
  /** Environment overrides that point the gateway's trunk and route at this PBX. */
  gatewayEnv(businessNumber: string, opts?: { ringTimeoutMs?: number; codecs?: string[]; srtp?: 'off' | 'optional' | 'mandatory' }): Env;
  stop(): Promise<void>;
}

export const GW_USER = 'gw';
export const GW_PASSWORD = 'gw-secret';

/**
 * A PBX the way a contact center has one: Kamailio as registrar/proxy (digest auth for the gateway's
 * trunk user) and a baresip desk phone registered as extension 1001, auto-answering and playing a tone.
 * `transport` is the gateway's trunk transport. With 'tls', Kamailio also listens on TLS with a self-signed
 * certificate for 127.0.0.1 that the gateway trusts through `pbx.tlsCaFile` (and verifies), the gateway
 * listens on TLS too (for Kamailio's in-dialog requests), and the phone stays on UDP. `phoneMediaEncryption`
 * makes the phone use SDES-SRTP (baresip's mediaenc).
 */
export async function startDemoPbx(options: {
  transport: 'udp' | 'tcp' | 'tls';
  phoneToneHz?: number;
  extension?: string;
  answerMode?: 'auto' | 'manual';
  phoneMediaEncryption?: BaresipMediaEncryption;
  /** The phone's codecs (default PCMU, PCMA) and the rate of its tone WAV and recordings (default 8000). */
  phoneCodecs?: readonly BaresipCodec[];
  phoneSampleRate?: 8000 | 16000;
  dir: string;
}): Promise<DemoPbx> {
  const cert = options.transport === 'tls' ? await createSelfSignedCert(options.dir) : undefined;
  const kamailio = await startKamailio({ authUsers: [{ user: GW_USER, password: GW_PASSWORD }], ...(cert ? { tls: cert } : {}) });
  const wavPath = join(options.dir, `phone-${options.phoneToneHz ?? 400}.wav`);
  writeSineWav({ path: wavPath, frequencyHz: options.phoneToneHz ?? 400, sampleRate: options.phoneSampleRate ?? 8000, seconds: 30 });
  let phone: BaresipHandle;
  let gatewayTlsPort = 0;
  try {
    if (cert) gatewayTlsPort = await freeTcpPort();
    phone = await startBaresip({
      user: options.extension ?? '1001',
      registrar: { host: kamailio.host, port: kamailio.port },
      transport: options.transport === 'tls' ? 'udp' : options.transport,
      wavPath,
      answerMode: options.answerMode ?? 'auto',
      ...(options.phoneMediaEncryption ? { mediaEncryption: options.phoneMediaEncryption } : {}),
      ...(options.phoneCodecs ? { codecs: options.phoneCodecs } : {}),
      ...(options.phoneSampleRate ? { sampleRate: options.phoneSampleRate } : {}),
    });
  } catch (err) {
    await kamailio.stop();
    throw err;
  }
  const extension = options.extension ?? '1001';
  return {
    kamailio,
    phone,
    gatewayEnv: (businessNumber, opts = {}) => ({
      ...(cert ? { PBX_TLS_PORT: String(gatewayTlsPort), PBX_TLS_CERT_FILE: cert.cert, PBX_TLS_KEY_FILE: cert.key, PBX_TLS_CA_FILE: cert.cert } : {}),
      PBX_TRUNKS: JSON.stringify([
        {
          name: 'pbx',
          hosts: [`${kamailio.host}:${cert ? kamailio.tlsPort : kamailio.port}`],
          transport: options.transport,
          username: GW_USER,
          password: GW_PASSWORD,
          fromUser: GW_USER,
          fromDomain: kamailio.host,
          codecs: opts.codecs ?? ['PCMU', 'PCMA'],
          ...(opts.srtp ? { srtp: opts.srtp } : {}),
          allowFrom: [],
        },
      ]),
      PBX_ROUTES: JSON.stringify([
        { businessNumber, destinations: [{ uri: `sip:${extension}@${kamailio.host}`, trunk: 'pbx', ringTimeoutMs: opts.ringTimeoutMs ?? 20000 }], onFailure: 'reject' },
      ]),
    }),
    stop: async () => {
      await phone.stop();
      await kamailio.stop();
    },
  };
}

/** Tone analysis of the newest recording of what the phone heard (8 kHz). */
export async function phoneHeard(phone: BaresipHandle, frequencyHz: number, minFrames = 25): Promise<ToneReport> {
  return eventually(
    `${frequencyHz} Hz in the phone's recording`,
    async () => {
      const dec = phone.recordings().dec;
      const last = dec[dec.length - 1];
      if (!last) return undefined;
      const wav = readWav(last);
      const rep = analyseTone(wav.samples, frequencyHz, wav.sampleRate);
      return rep.framesWithTone >= minFrames ? rep : undefined;
    },
    15_000,
    250,
  );
}

/** Another extension on the demo PBX's Kamailio (a colleague's desk phone): auto-answers (or rings until `answer()`) and plays `toneHz`. */
export async function startExtension(dir: string, registrar: { host: string; port: number }, extension: string, toneHz: number, answerMode: 'auto' | 'manual' = 'auto'): Promise<BaresipHandle> {
  const wavPath = join(dir, `phone-${extension}-${toneHz}.wav`);
  writeSineWav({ path: wavPath, frequencyHz: toneHz, sampleRate: 8000, seconds: 30 });
  return startBaresip({ user: extension, registrar, wavPath, answerMode });
}
