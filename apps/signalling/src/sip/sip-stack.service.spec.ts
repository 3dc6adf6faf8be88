import { findConfigDir, loadConfig } from '@wagw/config';
import { silentLogger } from '@wagw/logging';
import { SipStackService } from './sip-stack.service';

/** The PEM files named in pbx.* are read at start: a missing one stops the start naming the key and the path. */
describe('SipStackService start', () => {
  const start = (env: Record<string, string>): Promise<void> =>
    new SipStackService(loadConfig({ env: { PBX_UDP_PORT: '0', PBX_TCP_PORT: '0', ...env }, configDir: findConfigDir() }), silentLogger()).onApplicationBootstrap();

  it('names pbx.tlsCaFile and its path when the CA bundle cannot be read', async () => {
    // read before any socket is bound, so the port is never opened
    await expect(start({ PBX_UDP_PORT: '5999', PBX_TLS_CA_FILE: '/nonexistent/ca.pem' })).rejects.toThrow('pbx.tlsCaFile: cannot read /nonexistent/ca.pem (ENOENT)');
  });

  it('names pbx.tlsCertFile when the TLS listener certificate cannot be read', async () => {
    await expect(start({ PBX_TLS_PORT: '5061', PBX_TLS_CERT_FILE: '/nonexistent/cert.pem', PBX_TLS_KEY_FILE: '/nonexistent/key.pem' })).rejects.toThrow(
      'pbx.tlsCertFile: cannot read /nonexistent/cert.pem (ENOENT)',
    );
  });
});
