import { bootstrapSignalling, type SignallingHandle } from './bootstrap';
import { ConfigReloadRefusedError, ConfigReloadService } from './admin/config-reload.service';

/** SIGHUP re-reads the configuration, as POST /v1/admin/reload does (the outcome is logged there). */
function reloadOnSighup(handle: SignallingHandle): void {
  process.on('SIGHUP', () => {
    try {
      handle.app.get(ConfigReloadService).reload();
    } catch (err) {
      if (!(err instanceof ConfigReloadRefusedError)) handle.logger.error({ err }, 'configuration reload on SIGHUP failed');
    }
  });
}

bootstrapSignalling().then(reloadOnSighup, (err: unknown) => {
  // The logger may not exist yet (a config error stops the app before it is built): write plainly.
  process.stderr.write(`signalling failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
