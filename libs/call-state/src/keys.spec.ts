import { isKeyPart, redisKeys } from './keys';

describe('Redis key parts', () => {
  it('takes ids as the gateway makes them and refuses what would make a key ambiguous or a SCAN pattern wide', () => {
    for (const ok of ['call_01M8G1FP8CSBXG6H9FGWC51ZYY', 'wacid.wLds5LRzHOiuGNyrgB9imvdUV7B-n5uQ', '15551234567', 'x'.repeat(512)]) expect(isKeyPart(ok)).toBe(true);
    for (const bad of ['', ' ', '\r\n', 'a b', 'call*', 'call?', 'call[1]', 'x'.repeat(513), undefined, null, 7]) expect(isKeyPart(bad)).toBe(false);
  });

  it('builds keys only from parts that pass', () => {
    const keys = redisKeys('wagw');
    expect(keys.call('call_1')).toBe('wagw:call:call_1');
    expect(() => keys.call('\r\n')).toThrow(TypeError);
  });
});
