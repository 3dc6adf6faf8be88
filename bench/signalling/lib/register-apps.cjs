/* eslint-disable @typescript-eslint/no-require-imports, no-undef -- a CommonJS require hook run by plain Node */
// Runs the gateway's apps from their TypeScript sources for the signalling benches, the way `npm run build`
// output runs in production: each .ts compiled on require by @swc/core with the repo's .swcrc (decorator
// metadata for Nest) but WITHOUT source maps (production does not run with --enable-source-maps, and
// mapping every logged error's stack would be a cost the product does not pay), `@wagw/<lib>` resolved to
// libs/<lib>/src/index.ts like tsconfig paths. Transpile only: type errors are tsc's job.
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const Module = require('node:module');
const { transformSync } = require('@swc/core');

const root = join(__dirname, '..', '..', '..');
const swcrc = JSON.parse(readFileSync(join(root, '.swcrc'), 'utf8'));
const options = { ...swcrc, swcrc: false, sourceMaps: false, inlineSourcesContent: false };

const resolve = Module._resolveFilename;
Module._resolveFilename = function resolveWagw(request, parent, isMain, opts) {
  const m = /^@wagw\/([a-z-]+)$/.exec(request);
  if (m) return resolve.call(this, join(root, 'libs', m[1], 'src', 'index.ts'), parent, isMain, opts);
  return resolve.call(this, request, parent, isMain, opts);
};

require.extensions['.ts'] = function compileTs(module, filename) {
  const { code } = transformSync(readFileSync(filename, 'utf8'), { ...options, filename });
  module._compile(code, filename);
};
