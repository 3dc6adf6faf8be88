import type { NetworkInterfaceInfo } from 'node:os';
import { rtpAddresses } from './rtp-address';

const iface = (address: string, family: 'IPv4' | 'IPv6', internal: boolean): NetworkInterfaceInfo =>
  ({ address, family, internal, netmask: '', mac: '', cidr: null, ...(family === 'IPv6' ? { scopeid: 0 } : {}) }) as NetworkInterfaceInfo;

const host = { lo: [iface('127.0.0.1', 'IPv4', true)], eth0: [iface('fe80::1', 'IPv6', false), iface('10.1.2.3', 'IPv4', false)] };

describe('rtpAddresses', () => {
  it('advertises the public address when set, and binds to the pinned interface', () => {
    expect(rtpAddresses({ publicAddress: '203.0.113.5', iceInterfaceAddress: '10.1.2.3' }, host)).toEqual({ bindHost: '10.1.2.3', sdpAddress: '203.0.113.5' });
  });

  it('advertises the pinned interface without a public address', () => {
    expect(rtpAddresses({ publicAddress: '', iceInterfaceAddress: '127.0.0.1' }, host)).toEqual({ bindHost: '127.0.0.1', sdpAddress: '127.0.0.1' });
  });

  it('binds to every interface and advertises the first non-internal IPv4 when nothing is configured', () => {
    expect(rtpAddresses({ publicAddress: '', iceInterfaceAddress: '' }, host)).toEqual({ bindHost: '0.0.0.0', sdpAddress: '10.1.2.3' });
  });

  it('falls back to loopback on a host without a network', () => {
    expect(rtpAddresses({ publicAddress: '', iceInterfaceAddress: '' }, { lo: host.lo })).toEqual({ bindHost: '0.0.0.0', sdpAddress: '127.0.0.1' });
  });
});
