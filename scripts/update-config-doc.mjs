#!/usr/bin/env node
// Regenerates the README's configuration reference (between the config markers) from the schema in
// libs/config. Run through `npm run config:doc`, which builds dist/ first.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const { renderConfigReference } = require(join(root, 'dist/libs/config/src/config-doc.js'));
const readmePath = join(root, 'README.md');
const readme = readFileSync(readmePath, 'utf8');
const start = '<!-- config:start -->';
const end = '<!-- config:end -->';
const a = readme.indexOf(start);
const b = readme.indexOf(end);
if (a < 0 || b < a) throw new Error(`README.md lacks the ${start} ... ${end} markers`);
const next = `${readme.slice(0, a + start.length)}\n${renderConfigReference(join(root, 'config'))}\n${readme.slice(b)}`;
writeFileSync(readmePath, next);
process.stdout.write('README configuration reference updated\n');
