#!/usr/bin/env node
// Copies the static web pages (agent console, emulator phone page) next to their compiled modules in dist/,
// since tsc copies no static files. Run by `npm run build`.
import { cpSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
for (const dir of ['apps/signalling/src/console/assets', 'apps/wa-emulator/src/phone/assets']) {
  cpSync(join(root, dir), join(root, 'dist', dir), { recursive: true });
}
