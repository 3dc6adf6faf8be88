import { BadRequestException } from '@nestjs/common';
import { limitParam } from './limit-param';

describe('limitParam', () => {
  it('gives the fallback when absent and the number when it is one from 1 to max', () => {
    expect(limitParam(undefined, 50, 500)).toBe(50);
    expect(limitParam('1', 50, 500)).toBe(1);
    expect(limitParam('500', 50, 500)).toBe(500);
  });

  it('refuses anything else with the range and what came', () => {
    for (const bad of ['0', '501', '', '-1', '1.5', '10abc', ' 10', '1e2', ['1', '2']]) {
      expect(() => limitParam(bad, 50, 500)).toThrow(BadRequestException);
      expect(() => limitParam(bad, 50, 500)).toThrow(/^limit must be an integer from 1 to 500, got /);
    }
    expect(() => limitParam('10abc', 50, 500)).toThrow('limit must be an integer from 1 to 500, got "10abc"');
  });
});
