export * from './permission.rules';
export * from './permission.machine';
export * from './quota';
export * from './permission-record.types';
export * from './permission.decide';
export * from './permission.inputs';
export * from './permissions.errors';
export { PermissionRepository, needsReconcile, type PermissionRepositoryOptions, type PermissionApplyResult } from './permission.repository';
