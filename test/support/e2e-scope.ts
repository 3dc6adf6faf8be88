import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectNoLeaks } from './leaks';
import type { Stack } from './stack';

/** What an e2e test with real peers holds: its temp folder, the gateway stack and the peers it started. */
export interface E2eScope<P extends { stop(): Promise<unknown> }> {
  /** A fresh temp folder per test (WAVs, certificates, recordings), removed afterwards. */
  readonly dir: string;
  stack: Stack | undefined;
  pbx: P | undefined;
}

/**
 * Registers, in the calling describe, the per-test set-up and teardown shared by the e2e specs with real
 * peers: a temp folder before each test; after it, the leak check of the stack (no call, leg, port or key
 * left), then the stack closed before the peers (the gateway hangs up first) and the folder removed.
 */
export function e2eScope<P extends { stop(): Promise<unknown> }>(tmpPrefix: string): E2eScope<P> {
  let dir = '';
  const scope: E2eScope<P> = {
    get dir() {
      return dir;
    },
    stack: undefined,
    pbx: undefined,
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), tmpPrefix));
  });
  afterEach(() => expectNoLeaks(scope.stack));
  afterEach(async () => {
    await scope.stack?.close();
    await scope.pbx?.stop();
    scope.stack = undefined;
    scope.pbx = undefined;
    rmSync(dir, { recursive: true, force: true });
  });
  return scope;
}
