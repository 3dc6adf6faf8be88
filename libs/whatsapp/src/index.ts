export * from './webhooks/signature';
