// Runs the CLI (or any TypeScript entry of this repo) from source, without a build: compiles .ts files with
// @swc/core (the repo's .swcrc, as jest does) and maps @wagw/<lib> to libs/<lib>/src/index.ts.
//   node -r ./apps/cli/dev/register-ts.js apps/cli/src/main.ts --help
// Tests spawn the CLI this way; `npm run cli` and the `wagw` bin run the build in dist/.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const Module = require('node:module');
const { transformSync } = require('@swc/core');

const root = path.resolve(__dirname, '..', '..', '..');
const swcrc = JSON.parse(fs.readFileSync(path.join(root, '.swcrc'), 'utf8'));
const resolveFilename = Module._resolveFilename;

Module._resolveFilename = function (request, ...rest) {
  const lib = /^@wagw\/([a-z-]+)$/.exec(request);
  return resolveFilename.call(this, lib ? path.join(root, 'libs', lib[1], 'src', 'index.ts') : request, ...rest);
};

require.extensions['.ts'] = function (module, filename) {
  const { code } = transformSync(fs.readFileSync(filename, 'utf8'), { ...swcrc, swcrc: false, filename, sourceMaps: 'inline' });
  module._compile(code, filename);
};
