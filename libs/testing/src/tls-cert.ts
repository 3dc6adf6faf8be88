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
 * valid for two days; with `dnsName`, for that name alone instead (a SIP domain's certificate). For TLS test
 * peers only.
 */
export async function createSelfSignedCert(dir: string, ip = '127.0.0.1', dnsName?: string): Promise<PemPair> {
  const cert = join(dir, dnsName ? `${dnsName}.cert.pem` : 'cert.pem');
  const key = join(dir, dnsName ? `${dnsName}.key.pem` : 'key.pem');
  const [cn, san] = dnsName ? [dnsName, `DNS:${dnsName}`] : [ip, `IP:${ip}`];
  await execFileAsync(
    'openssl',
    [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
      '-subj', `/CN=${cn}`, '-addext', `subjectAltName=${san}`, '-keyout', key, '-out', cert,
    ],
    { timeout: 10_000 },
  );
  return { cert, key };
}
