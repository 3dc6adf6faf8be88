import { configureIceCheckTiming, ICE_CHECK_RTO_MS } from './ice-timing';
import { weriftModule } from './werift-internals';

describe('ICE check timing', () => {
  it("raises werift's first check RTO to the configured value, the one its STUN transactions read", () => {
    configureIceCheckTiming();
    // the module the transactions read (werift's ice layer re-exports the ice-server one's setting)
    const viaIce = weriftModule<{ RETRY_RTO: number }>('ice', 'stun', 'const.js');
    expect(viaIce.RETRY_RTO).toBe(ICE_CHECK_RTO_MS);
  });
});
