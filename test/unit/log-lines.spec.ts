import { duplicateTopLevelKeys } from '../support/log-lines';

describe('duplicateTopLevelKeys', () => {
  it('finds a key written twice at the top level, and ignores nested objects, arrays and strings', () => {
    expect(duplicateTopLevelKeys('{"a":1,"direction":"inbound","b":{"direction":"x"},"direction":"outbound"}')).toEqual(['direction']);
    expect(duplicateTopLevelKeys('{"a":"\\"a\\":1","b":[{"a":2}],"c":{"a":{"a":3}}}')).toEqual([]);
    expect(duplicateTopLevelKeys('{"msg":"x,\\"msg\\":y"}')).toEqual([]);
  });
});
