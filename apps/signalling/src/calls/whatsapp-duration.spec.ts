import { whatsAppDurationPatch } from './whatsapp-duration';

describe('whatsAppDurationPatch', () => {
  it('bills a business-initiated call in 6-second pulses rounded up (reference §6.4: 56 s is 10 pulses)', () => {
    expect(whatsAppDurationPatch('outbound', 56)).toEqual({ waDurationS: 56, waBillablePulses: 10 });
    expect(whatsAppDurationPatch('outbound', 60)).toEqual({ waDurationS: 60, waBillablePulses: 10 });
    expect(whatsAppDurationPatch('outbound', 61)).toEqual({ waDurationS: 61, waBillablePulses: 11 });
    expect(whatsAppDurationPatch('outbound', 1)).toEqual({ waDurationS: 1, waBillablePulses: 1 });
    expect(whatsAppDurationPatch('outbound', 0)).toEqual({ waDurationS: 0, waBillablePulses: 0 });
  });

  it('rounds a fractional duration up, for the seconds and the pulses alike', () => {
    expect(whatsAppDurationPatch('outbound', 6.2)).toEqual({ waDurationS: 7, waBillablePulses: 2 });
    expect(whatsAppDurationPatch('inbound', 0.4)).toEqual({ waDurationS: 1 });
  });

  it('gives a user-initiated call its duration and no pulses (user-initiated calls are free)', () => {
    expect(whatsAppDurationPatch('inbound', 120)).toEqual({ waDurationS: 120 });
  });
});
