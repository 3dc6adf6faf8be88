export * from './media.contracts';
export * from './contracts.errors';
