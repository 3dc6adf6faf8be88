import { dirname, join } from 'node:path';

/**
 * A module of werift's own layers (`lib/<layer>/src/...`) that its package `exports` keep private, loaded
 * through the file next to the resolved entry point: the one instance werift itself uses, so a patch on it
 * applies to every peer connection. A werift upgrade that moves the file fails here, naming the path.
 */
export function weriftModule<T>(layer: string, ...path: string[]): T {
  const file = join(dirname(require.resolve('werift')), '..', '..', layer, 'src', ...path);
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- werift keeps this module out of its exports map
  return require(file) as T;
}
