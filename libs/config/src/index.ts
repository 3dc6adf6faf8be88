export * from './config.schema';
export * from './business-hours.schema';
export * from './config.errors';
export * from './load-config';
export * from './config.module';
export * from './redis-url';
export * from './config-doc';
export * from './redis-bus.transport';
