import { dirname, join } from 'node:path';
import { configureIceCheckTiming, ICE_CHECK_RTO_MS } from './ice-timing';

describe('ICE check timing', () => {
  it("raises werift's first check RTO to the configured value, the one its STUN transactions read", () => {
    configureIceCheckTiming();
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- reading the module the transactions use
    const viaIce = require(join(dirname(require.resolve('werift')), '..', '..', 'ice', 'src', 'stun', 'const.js')) as { RETRY_RTO: number };
    expect(viaIce.RETRY_RTO).toBe(ICE_CHECK_RTO_MS);
  });
});
