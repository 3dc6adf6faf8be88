import { gcMode } from './gc-mode';

describe('gcMode', () => {
  it('is background threads without the flag', () => {
    expect(gcMode([])).toBe('background threads');
    expect(gcMode(['--enable-source-maps'])).toBe('background threads');
  });

  it('is single-threaded with --single-threaded-gc in either spelling', () => {
    expect(gcMode(['--enable-source-maps', '--single-threaded-gc'])).toBe('single-threaded');
    expect(gcMode(['--single_threaded_gc'])).toBe('single-threaded');
  });

  it('takes the last of the flag and its negation, as V8 does', () => {
    expect(gcMode(['--single-threaded-gc', '--no-single-threaded-gc'])).toBe('background threads');
    expect(gcMode(['--no-single-threaded-gc', '--single-threaded-gc'])).toBe('single-threaded');
  });
});
