import { Injectable } from '@nestjs/common';
import type { Logger } from '@wagw/logging';
import { FailoverInviter, type TrunkCall } from '../trunks/failover-inviter';
import { sipLegLost, type SipLegLost } from './sip-leg-lost';
import type { TrunkConfig } from './trunk-directory';

export type DialOutcome =
  | { kind: 'answered'; sdp: string; call: TrunkCall }
  | { kind: 'failed'; cause: string; sipCause: string }
  | { kind: 'aborted' };

export interface DialRequest {
  uri: string;
  trunk: TrunkConfig;
  ringTimeoutMs: number;
  sdp: string;
  from: { user: string; displayName?: string };
  headers?: Record<string, string>;
  log: Logger;
  onCreated(call: TrunkCall): void;
  onRinging(): void;
  /** The PBX redirected the call (3xx, followed) to this Contact. */
  onRedirected?(target: string): void;
  /** The PBX leg ended without us: the far end's BYE, or its session timer expired. */
  onRemoteHangup(lost: SipLegLost): void;
  /** A DTMF digit by SIP INFO from the PBX. */
  onDtmfInfo?(digit: string, durationMs?: number): void;
}

/**
 * One INVITE over a trunk, resolved when it is answered, fails, or is cancelled by us. The trunk's hosts
 * are tried in health order with failover (FailoverInviter); digest credentials answer a 401/407 once.
 */
@Injectable()
export class PbxDialer {
  constructor(private readonly inviter: FailoverInviter) {}

  dial(req: DialRequest): Promise<DialOutcome> {
    const { trunk } = req;
    const call = this.inviter.invite(trunk, {
      target: req.uri,
      from: { user: req.from.user, ...(req.from.displayName ? { displayName: req.from.displayName } : {}) },
      sdp: req.sdp,
      ...(req.headers ? { headers: req.headers } : {}),
      ...(trunk.username ? { auth: { username: trunk.username, password: trunk.password } } : {}),
      ringTimeoutMs: req.ringTimeoutMs,
      logger: req.log,
    });
    req.onCreated(call);
    req.log.info({ uri: req.uri, trunk: trunk.name, sipCallId: call.callId }, 'INVITE sent to the PBX');
    return new Promise<DialOutcome>((resolve) => {
      call.on('progress', () => req.onRinging());
      call.on('redirected', (r) => req.onRedirected?.(r.target));
      call.on('answered', (a) =>
        resolve(a.sdp ? { kind: 'answered', sdp: a.sdp, call } : { kind: 'failed', cause: 'PBX answered without SDP', sipCause: '200 without SDP' }),
      );
      call.on('failed', (f) => resolve(f.cause === 'cancelled' ? { kind: 'aborted' } : { kind: 'failed', cause: `PBX ${f.cause}`, sipCause: `${f.status} ${f.reason}` }));
      call.on('info', (info) => {
        if (info.dtmf) req.onDtmfInfo?.(info.dtmf.digit, info.dtmf.durationMs);
      });
      call.on('ended', (e) => {
        const lost = sipLegLost(e);
        if (lost) req.onRemoteHangup(lost);
      });
    });
  }
}
