import { bootstrapSignalling } from './bootstrap';

bootstrapSignalling().catch((err: unknown) => {
  // The logger may not exist yet (a config error stops the app before it is built): write plainly.
  process.stderr.write(`signalling failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
