import { CallAdmission } from './call-admission';
import { MediaAtCapacityError } from './media.errors';

describe('CallAdmission', () => {
  it('admits calls up to maxCalls, refuses the next new one, and always takes more legs of an admitted call', () => {
    const a = new CallAdmission(2);
    a.admitLeg('c1');
    a.admitLeg('c2');
    expect(() => a.admitLeg('c3')).toThrow(MediaAtCapacityError);
    expect(() => a.admitLeg('c3')).toThrow('the media app carries its maximum of 2 calls (media.maxCalls)');
    a.admitLeg('c1'); // the other side of c1
    a.admitLeg('c1'); // a transfer's new PBX leg
    expect([a.calls, a.refused]).toEqual([2, 2]);
  });

  it('frees a call with its last leg, not before', () => {
    const a = new CallAdmission(1);
    a.admitLeg('c1');
    a.admitLeg('c1');
    a.releaseLeg('c1');
    expect(() => a.admitLeg('c2')).toThrow(MediaAtCapacityError);
    a.releaseLeg('c1');
    expect(a.calls).toBe(0);
    a.admitLeg('c2');
    a.releaseLeg('unknown'); // a leg never admitted: nothing happens
    expect(a.calls).toBe(1);
  });

  it('has no limit at 0, and refuses a negative or fractional limit', () => {
    const a = new CallAdmission(0);
    for (let i = 0; i < 1000; i++) a.admitLeg(`c${i}`);
    expect([a.calls, a.maxCalls, a.refused]).toEqual([1000, 0, 0]);
    expect(() => new CallAdmission(-1)).toThrow(RangeError);
    expect(() => new CallAdmission(1.5)).toThrow(RangeError);
  });
});
