import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import type { AppConfig } from '@wagw/config';

export interface RtpAddresses {
  /** Where the RTP sockets bind: media.iceInterfaceAddress, else every interface. */
  bindHost: string;
  /** What our SDP's c= line says: the address the PBX sends RTP to. */
  sdpAddress: string;
}

type Interfaces = NodeJS.Dict<NetworkInterfaceInfo[]>;

/**
 * The addresses of the RTP legs toward the PBX (empty strings in config mean "not set"). The SDP address
 * must be reachable from the PBX: media.publicAddress (1:1 NAT) if set, else the interface the legs are
 * pinned to, else the host's first non-internal IPv4 address, else loopback (a machine with no network).
 */
export function rtpAddresses(media: Pick<AppConfig['media'], 'publicAddress' | 'iceInterfaceAddress'>, interfaces: Interfaces = networkInterfaces()): RtpAddresses {
  const bindHost = media.iceInterfaceAddress || '0.0.0.0';
  const sdpAddress = media.publicAddress || media.iceInterfaceAddress || firstExternalIpv4(interfaces) || '127.0.0.1';
  return { bindHost, sdpAddress };
}

function firstExternalIpv4(interfaces: Interfaces): string | undefined {
  for (const infos of Object.values(interfaces)) {
    const found = infos?.find((i) => i.family === 'IPv4' && !i.internal);
    if (found) return found.address;
  }
  return undefined;
}
