export * from './call-state.machine';
export * from './call-state.errors';
export * from './call-record.types';
export * from './call-record.derive';
export * from './keys';
export * from './call.repository';
export { LuaScript } from './call-repository.scripts';
export * from './media-instance.registry';
export * from './signalling-instance.registry';
