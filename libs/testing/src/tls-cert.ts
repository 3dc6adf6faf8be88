import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface PemPair {
  cert: string;
  key: string;
}

/**
 * Writes a self-signed P-256 certificate for `ip` (CN and subjectAltName) into `dir` with the openssl CLI,
 * valid for two days. For TLS test peers only.
 */
export async function createSelfSignedCert(dir: string, ip = '127.0.0.1'): Promise<PemPair> {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  await execFileAsync(
    'openssl',
    [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
      '-subj', `/CN=${ip}`, '-addext', `subjectAltName=IP:${ip}`, '-keyout', key, '-out', cert,
    ],
    { timeout: 10_000 },
  );
  return { cert, key };
}
