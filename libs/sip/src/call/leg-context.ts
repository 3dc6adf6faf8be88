import type { Logger } from '@wagw/logging';
import type { NameAddr, SipMessage, SipUri } from 'sip';
import type { Endpoint, TransportProtocol } from '../transport/sip-transport';
import type { SessionTimerPolicy } from './session-timer';

/**
 * The narrow port a call leg uses to reach its stack (STYLE §3: inject ports, no back-references).
 * Implemented by SipStack.
 */

export interface SipTimers {
  /** RFC 3261 T1 (500 ms in npm `sip`). */
  t1Ms: number;
  /** RFC 3261 T2 (4 s). */
  t2Ms: number;
  /** Timer B/F: a request without any response fails after this long. */
  transactionTimeoutMs: number;
}

export interface RequestOptions {
  transport: TransportProtocol;
  /** URI of the next hop; ignored when `destination` is given. Default: the Request-URI. */
  hop?: string | SipUri;
  destination?: Endpoint;
  /** An outbound proxy (`host[:port]` or SIP URI) to send to, whatever the Request-URI says. */
  proxy?: string;
  /** Over TLS: the SIP domain the destination serves, whose name its certificate may carry (Endpoint.tlsIdentity). */
  tlsIdentity?: string;
  /** Every response; `local` is true for ones we synthesised (timeout 408, transport 503). */
  onResponse?(response: SipMessage, local: boolean): void;
}

export interface SentRequest {
  destination: Endpoint;
  /** Ends the client transaction without a response (used after our own timers give up). */
  shutdown(): void;
}

/** Receives requests inside a dialog the leg registered. */
export interface DialogRequestHandler {
  onDialogRequest(request: SipMessage): void;
}

export interface LegContext {
  readonly logger: Logger;
  readonly userAgent: string;
  /** Value of our Allow header. */
  readonly allow: string;
  readonly timers: SipTimers;
  /** Session timers (RFC 4028) of every dialog; undefined: off (no `timer` in Supported, no refreshes). */
  readonly sessionTimer: SessionTimerPolicy | undefined;
  /** Our Contact for a transport. */
  contact(transport: TransportProtocol): NameAddr;
  /** Our host as written in Via/Contact (used for From when none is given). */
  readonly advertisedHost: string;
  /** Sends a request in a new client transaction. Resolution failures arrive as a local 503. */
  sendRequest(request: SipMessage, options: RequestOptions): Promise<SentRequest | undefined>;
  /** Sends an ACK for a 2xx (no transaction, RFC 3261 §17.1.1.3). Re-sending the same object repeats it. */
  sendAck(ack: SipMessage, hop: string | SipUri, transport: TransportProtocol): Promise<void>;
  /** Sends a response through the server transaction of its request. */
  sendResponse(response: SipMessage): void;
  registerDialog(id: string, handler: DialogRequestHandler): void;
  unregisterDialog(id: string): void;
  /** Tells the stack that a leg has terminated (drops it from the set `close()` disposes). */
  legTerminated(leg: object): void;
}

/**
 * Sends a request and resolves with its final response (a local 408/503 on timeout or transport error).
 * `onTwoXx` sees every 2xx, retransmissions included (each needs its ACK when the request is an INVITE).
 */
export function requestFinal(
  ctx: LegContext,
  request: SipMessage,
  options: Omit<RequestOptions, 'onResponse'>,
  onTwoXx?: (response: SipMessage) => void,
): Promise<{ response: SipMessage; local: boolean }> {
  return new Promise((resolve) => {
    void ctx.sendRequest(request, {
      ...options,
      onResponse: (response, local) => {
        const status = response.status ?? 0;
        if (status >= 200 && status < 300 && !local) onTwoXx?.(response);
        if (status >= 200) resolve({ response, local });
      },
    });
  });
}
