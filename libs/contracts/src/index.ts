export * from './media.contracts';
export * from './contracts.errors';
export * from './pbx-media.contracts';
