/**
 * Whether V8 collects garbage on the media app's own thread (`node --single-threaded-gc`). With background
 * GC threads a full collection's concurrent marking shares the media app's core (one media app per core)
 * and held the event loop up to ~65 ms at 80 transcoded calls (README "Several media apps"); the flag is
 * refused in NODE_OPTIONS, so the launchers put it on the command line and the app says which it got.
 */
export type GcMode = 'single-threaded' | 'background threads';

/** The last of `--single-threaded-gc` / `--no-single-threaded-gc` on the command line wins, as in V8. */
export function gcMode(execArgv: readonly string[]): GcMode {
  let single = false;
  for (const arg of execArgv) {
    if (arg === '--single-threaded-gc' || arg === '--single_threaded_gc') single = true;
    else if (arg === '--no-single-threaded-gc' || arg === '--no-single_threaded_gc') single = false;
  }
  return single ? 'single-threaded' : 'background threads';
}
