export * from './config.schema';
export * from './config.errors';
export * from './load-config';
export * from './config.module';
export * from './redis-url';
export * from './config-doc';
