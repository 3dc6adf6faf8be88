import { DynamicModule, Global, Module } from '@nestjs/common';
import type { AppConfig } from './config.schema';
import { loadConfig } from './load-config';

export const APP_CONFIG = Symbol('APP_CONFIG');

/** Validates the configuration once at boot and provides the frozen object as APP_CONFIG. */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config?: Readonly<AppConfig>): DynamicModule {
    // eslint-disable-next-line no-process-env -- libs/config is the one reader of process.env
    const value = config ?? loadConfig({ env: process.env });
    return { module: ConfigModule, providers: [{ provide: APP_CONFIG, useValue: value }], exports: [APP_CONFIG] };
  }
}
