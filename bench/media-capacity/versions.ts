/** Versions of what the figures depend on: Node, the npm packages on the media path, and the Debian peers. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

function pkg(name: string): string {
  try {
    return (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'missing';
  }
}

function tool(cmd: string, args: string[], pattern: RegExp): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error) return 'not installed';
  // rtpengine prints its version on stderr, redis-server on stdout
  const out = `${r.stdout}${r.stderr}`;
  return pattern.exec(out)?.[1] ?? (out.trim().split('\n')[0] || 'unknown');
}

export function versions(): Record<string, string> {
  return {
    node: process.version,
    werift: pkg('werift'),
    '@evan/opus': pkg('@evan/opus'),
    nestjs: pkg('@nestjs/core'),
    rtpengine: tool('rtpengine', ['--version'], /Version:\s*(\S+)/),
    'redis-server': tool('redis-server', ['--version'], /v=(\S+)/),
  };
}
