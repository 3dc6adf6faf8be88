/* eslint-disable @typescript-eslint/no-require-imports, no-undef -- a CommonJS require hook run by plain Node */
// Runs a TypeScript file with Node by compiling it with @swc/core on require (benchmarks only; not for apps).
// Usage: node -r ./libs/media-bridge/bench/swc-register.cjs libs/media-bridge/bench/transcode.bench.ts
const { readFileSync } = require('node:fs');
const { transformSync } = require('@swc/core');

require.extensions['.ts'] = function compileTs(module, filename) {
  const { code } = transformSync(readFileSync(filename, 'utf8'), {
    filename,
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'commonjs' },
  });
  module._compile(code, filename);
};
