export * from './logger';
export * from './redact';
export * from './pino-nest-logger';
