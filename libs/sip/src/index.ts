/**
 * libs/sip: the SIP layer toward the PBX trunk (B2BUA legs on npm `sip`), SDP helpers, SipError and the
 * cause <-> status mapping. Pure TypeScript; Nest only in sip.module.ts.
 */
export { SipStack } from './stack/sip-stack';
export type { InviteHandler } from './stack/incoming-request-router';
export { OutboundCall, type OutboundCallState } from './call/outbound-call';
export { InboundCall, type InboundCallState } from './call/inbound-call';
export type { CallLeg, RemoteSdpHandler, TransferHandler, TransferRequest } from './call/call-leg';
export type { SipTimers } from './call/leg-context';
export type { SessionTimerPolicy, SessionTimerTerms } from './call/session-timer';
export { Registration, type RegistrationOptions, type RegistrationState, type RegistrationStatus } from './register/registration';
export * from './sip.types';
export * from './sip.errors';
export * from './sdp/sdp';
export type { Endpoint, TlsClientOptions, TlsListenOptions, TransportProtocol } from './transport/sip-transport';
export type { InboundConnectionLimits } from './transport/inbound-connections';
export { SipDns, DnsLookupError, isNoRecord, srvOrder, type DnsQueries, type SipDnsOptions, type SrvTarget } from './transport/sip-dns';
export { defaultPort } from './transport/destination';
export {
  buildDtmfRelay,
  formatReason,
  parseDtmfInfo,
  parseReason,
  parseRetryAfter,
  type DtmfInfo,
  type SipParty,
  type SipReason,
} from './message/headers';
export { TypedEmitter } from './typed-emitter';
export { assertDialogSnapshot, type DialogSnapshot } from './dialog/dialog';
export { assertPendingInviteSnapshot, type PendingInviteSnapshot } from './call/pending-invite';
export { assertIncomingInviteSnapshot, type IncomingInviteSnapshot } from './call/incoming-invite';
export { SipModule, SIP_STACK, type SipModuleAsyncOptions } from './sip.module';
