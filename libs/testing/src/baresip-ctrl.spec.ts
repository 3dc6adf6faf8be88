import { NetstringDecoder, encodeNetstring } from './baresip-ctrl';

describe('ctrl_tcp netstrings', () => {
  it('encodes the UTF-8 byte length', () => {
    expect(encodeNetstring('{"command":"quit"}').toString()).toBe('18:{"command":"quit"},');
    expect(encodeNetstring('é').toString()).toBe('2:é,');
  });

  it('decodes messages split across chunks and several messages in one chunk', () => {
    const d = new NetstringDecoder();
    expect(d.push(Buffer.from('5:hel'))).toEqual([]);
    expect(d.push(Buffer.from('lo,3:abc,2:'))).toEqual(['hello', 'abc']);
    expect(d.push(Buffer.from('xy,'))).toEqual(['xy']);
  });

  it('rejects a bad length or a missing terminator', () => {
    expect(() => new NetstringDecoder().push(Buffer.from('x:abc,'))).toThrow(/length/);
    expect(() => new NetstringDecoder().push(Buffer.from('3:abc;'))).toThrow(/terminated/);
  });
});
