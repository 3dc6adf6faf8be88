export * from './webhooks/signature';
export * from './webhooks/webhook-events.types';
export { parseWebhook } from './webhooks/webhook.parser';
export { dedupKeyOf, contentHash } from './dedup/dedup-key';
export { type DedupStore, type RedisSetNxPort, RedisDedupStore, InMemoryDedupStore } from './dedup/dedup.store';
export * from './whatsapp.errors';
export { mapGraphError, parseNextAllowedAt } from './graph/map-graph-error';
export {
  type CallingSettings,
  type CallingSettingsUpdate,
  type CallingSettingsWire,
  callingSettingsWireSchema,
  toCallingSettings,
  toCallingSettingsWire,
} from './calling-settings.schema';
export { WhatsAppGraphClient, type WhatsAppGraphClientOptions } from './graph/graph-api.client';
export type { GraphHttpOptions } from './graph/graph-http';
export { createNodeHttpFetch, type GraphFetch, type GraphFetchInit, type GraphFetchResponse, type NodeHttpFetch } from './graph/node-http-fetch';
export * from './graph/graph-api.types';
export { CALL_BUTTON_LIMITS, MAX_BIZ_OPAQUE_CALLBACK_DATA, toWireSdp } from './graph/graph-api.dto';
export { adviseOnCallingSettings, type AdviceLevel, type CallingRestriction, type SettingsAdvice } from './calling-settings.advice';
