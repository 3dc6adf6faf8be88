/**
 * Minimal declarations for npm `sip` 0.0.6 (kirm/sip.js), covering only what libs/sip uses: the message
 * parser/serialiser, the RFC 3261 transaction layer and the digest helpers. The package ships no types.
 * Strings inside messages are "binary" (latin1) strings: one char per byte on the wire.
 */
declare module 'sip' {
  export type SipParams = Record<string, string | null | undefined>;

  export interface SipUri {
    schema?: string;
    user?: string;
    password?: string;
    host: string;
    port?: number;
    params: SipParams;
    headers?: Record<string, string>;
  }

  /** A name-addr header value (From, To, Contact, Route, Record-Route). */
  export interface NameAddr {
    name?: string;
    uri: string | SipUri;
    params?: SipParams;
  }

  export interface Via {
    version?: string;
    protocol?: string;
    host?: string;
    port?: number;
    params: SipParams;
  }

  export interface CSeq {
    seq: number;
    method: string;
  }

  /** A parsed (Proxy-)Authenticate / (Proxy-)Authorization header; values keep their quotes. */
  export interface AuthHeader {
    scheme: string;
    [param: string]: string | undefined;
  }

  export interface SipHeaders {
    via: Via[];
    to: NameAddr;
    from: NameAddr;
    'call-id': string;
    cseq: CSeq;
    contact?: NameAddr[] | '*';
    route?: NameAddr[];
    'record-route'?: NameAddr[];
    'content-length'?: number;
    'www-authenticate'?: AuthHeader[];
    'proxy-authenticate'?: AuthHeader[];
    authorization?: AuthHeader[];
    'proxy-authorization'?: AuthHeader[];
    /** Any other header: the raw value (repeated headers joined with a comma), or a number we set. */
    [name: string]: unknown;
  }

  export interface SipMessage {
    method?: string;
    uri?: string | SipUri;
    status?: number;
    reason?: string;
    version?: string;
    headers: SipHeaders;
    content?: string;
  }

  /** A transport flow the transaction layer sends on. */
  export interface Connection {
    send(message: SipMessage): void;
    release(): void;
    protocol: string;
  }

  export interface ClientTransaction {
    message(message: SipMessage, remote?: unknown): void;
    shutdown(): void;
  }

  export interface ServerTransaction {
    send(message: SipMessage): void;
    message(message: SipMessage, remote?: unknown): void;
    shutdown(): void;
  }

  export interface TransactionLayer {
    createServerTransaction(request: SipMessage, connection: Connection): ServerTransaction;
    createClientTransaction(connection: Connection, request: SipMessage, onResponse: (response: SipMessage) => void): ClientTransaction;
    getServer(message: SipMessage): ServerTransaction | undefined;
    getClient(message: SipMessage): ClientTransaction | undefined;
    destroy(): void;
  }

  export function parse(data: string | Buffer): SipMessage | undefined;
  export function stringify(message: SipMessage): string;
  export function parseUri(uri: string | SipUri): SipUri | undefined;
  export function stringifyUri(uri: string | SipUri): string;
  export function makeResponse(
    request: SipMessage,
    status: number,
    reason?: string,
    extension?: { headers?: Record<string, unknown>; content?: string },
  ): SipMessage;
  export function makeStreamParser(
    onMessage: (message: SipMessage) => void,
    onFlood?: () => void,
    maxBytesHeaders?: number,
    maxContentLength?: number,
  ): (data: string) => void;
  export function makeTransactionLayer(options: { 'max-forwards'?: number }, open?: unknown): TransactionLayer;
  export function generateBranch(): string;
}

declare module 'sip/digest' {
  import type { SipMessage } from 'sip';

  /** Mutable digest context the helpers keep between a challenge and the answer to it. */
  export interface DigestContext {
    realm?: string;
    nonce?: string;
    qop?: string;
    nc?: number;
    proxy?: boolean;
    [key: string]: unknown;
  }

  export interface DigestCredentials {
    user: string;
    password?: string;
    hash?: string;
    realm?: string;
  }

  /** Adds a (Proxy-)Authenticate header to `response` (407 means proxy) and fills `ctx`. */
  export function challenge(ctx: DigestContext, response: SipMessage): SipMessage;
  /** Checks the request's (Proxy-)Authorization against `ctx` and the credentials. */
  export function authenticateRequest(ctx: DigestContext, request: SipMessage, creds: DigestCredentials): boolean;
  /** Adds (Proxy-)Authorization to `request` answering the challenge in `response`. Throws on a missing challenge. */
  export function signRequest(
    ctx: DigestContext | undefined,
    request: SipMessage,
    response: SipMessage | undefined,
    creds: DigestCredentials,
  ): DigestContext | null;
}
