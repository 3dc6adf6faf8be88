import { loadConfig } from '@wagw/config';
import { bootstrapMedia } from './bootstrap';

async function main(): Promise<void> {
  // eslint-disable-next-line no-process-env -- the app edge hands the environment to libs/config
  await bootstrapMedia(loadConfig({ env: process.env }));
}

main().catch((err: unknown) => {
  // The logger may not exist yet (a config error stops the app before it is built): write plainly.
  process.stderr.write(`media failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
