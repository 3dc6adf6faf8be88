/** Injection tokens of the signalling app. */
export const SIGNALLING_LOGGER = Symbol('SIGNALLING_LOGGER');
export const SIGNALLING_REDIS = Symbol('SIGNALLING_REDIS');
export const DEAD_LETTERS = Symbol('DEAD_LETTERS');
export const DEDUP_STORE = Symbol('DEDUP_STORE');
export const CALL_REPOSITORY = Symbol('CALL_REPOSITORY');
export const GRAPH_CLIENT = Symbol('GRAPH_CLIENT');
export const EARLY_TERMINATES = Symbol('EARLY_TERMINATES');
export const PERMISSIONS = Symbol('PERMISSIONS');
export const CLOCK = Symbol('CLOCK');
/** Epoch ms. Date.now in production; tests hand in the emulator's clock so days can pass. */
export type Clock = () => number;
export const CONTACTS = Symbol('CONTACTS');
/** This process's signalling instance id (new at every start): the owner written on its calls. */
export const SIGNALLING_INSTANCE_ID = Symbol('SIGNALLING_INSTANCE_ID');
/** The SignallingInstanceRegistry: every signalling process's heartbeat in Redis. */
export const SIGNALLING_INSTANCES = Symbol('SIGNALLING_INSTANCES');
