import { bootstrapEmulator } from './bootstrap';

bootstrapEmulator()
  .then((handle) => {
    const stop = (): void => {
      handle.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  })
  .catch((err: unknown) => {
    // The logger may not exist yet (a config error stops the app before it is built): write plainly.
    process.stderr.write(`wa-emulator failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
