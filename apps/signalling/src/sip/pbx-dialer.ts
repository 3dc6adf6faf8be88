import { Injectable } from '@nestjs/common';
import type { Logger } from '@wagw/logging';
import type { OutboundCall } from '@wagw/sip';
import { SipStackService } from './sip-stack.service';
import type { TrunkConfig } from './trunk-directory';

export type DialOutcome =
  | { kind: 'answered'; sdp: string; call: OutboundCall }
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
  onCreated(call: OutboundCall): void;
  onRinging(): void;
  /** The far end hung up after answering. */
  onRemoteHangup(sipCause: string): void;
  /** A DTMF digit by SIP INFO from the PBX. */
  onDtmfInfo?(digit: string, durationMs?: number): void;
}

function hostOf(hostPort: string): string {
  return hostPort.replace(/:\d+$/, '');
}

/**
 * One INVITE over a trunk, resolved when it is answered, fails, or is cancelled by us. The trunk's first
 * host is the outbound proxy; digest credentials answer a 401/407 once.
 */
@Injectable()
export class PbxDialer {
  constructor(private readonly sip: SipStackService) {}

  dial(req: DialRequest): Promise<DialOutcome> {
    const { trunk } = req;
    const call = this.sip.stack.invite({
      target: req.uri,
      transport: trunk.transport,
      outboundProxy: trunk.hosts[0] as string,
      from: { user: req.from.user, host: trunk.fromDomain || hostOf(trunk.hosts[0] as string), ...(req.from.displayName ? { displayName: req.from.displayName } : {}) },
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
      call.on('answered', (a) =>
        resolve(a.sdp ? { kind: 'answered', sdp: a.sdp, call } : { kind: 'failed', cause: 'PBX answered without SDP', sipCause: '200 without SDP' }),
      );
      call.on('failed', (f) => resolve(f.cause === 'cancelled' ? { kind: 'aborted' } : { kind: 'failed', cause: `PBX ${f.cause}`, sipCause: `${f.status} ${f.reason}` }));
      call.on('info', (info) => {
        if (info.dtmf) req.onDtmfInfo?.(info.dtmf.digit, info.dtmf.durationMs);
      });
      call.on('ended', (e) => {
        if (e.by === 'remote') req.onRemoteHangup(e.reason ? `BYE (${e.reason.protocol} ${e.reason.cause})` : 'BYE');
      });
    });
  }
}
