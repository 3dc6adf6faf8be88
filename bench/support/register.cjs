/* eslint-disable @typescript-eslint/no-require-imports, no-undef -- a CommonJS require hook run by plain Node */
// Runs the repo's TypeScript (apps, libs, bench) in plain Node for benchmarks: compiles each .ts on require
// with @swc/core using the repo's .swcrc (decorator metadata, as Nest needs), and resolves `@wagw/<lib>` to
// libs/<lib>/src/index.ts like tsconfig paths. Transpile only: type errors are tsc's job.
//   node -r ./bench/support/register.cjs <file.ts>
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const Module = require('node:module');
const { transformSync } = require('@swc/core');

const root = join(__dirname, '..', '..');
const swcrc = JSON.parse(readFileSync(join(root, '.swcrc'), 'utf8'));
// Inline source maps make every module's code several times larger in memory, and the process under test
// should look like production (tsc output, no source maps): they are on only with BENCH_SOURCE_MAPS=1.
const withMaps = process.env.BENCH_SOURCE_MAPS === '1';
const options = { ...swcrc, swcrc: false, sourceMaps: withMaps ? 'inline' : false };

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
if (withMaps) process.setSourceMapsEnabled?.(true);
