export * from './logger';
export * from './pino-nest-logger';
