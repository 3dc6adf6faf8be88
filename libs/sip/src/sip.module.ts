import { Inject, Injectable, Module, type DynamicModule, type FactoryProvider, type ModuleMetadata, type OnApplicationShutdown } from '@nestjs/common';
import type { SipStackOptions } from './sip.types';
import { SipStack } from './stack/sip-stack';

/** Injection token of the running SipStack. */
export const SIP_STACK = Symbol('SIP_STACK');

export interface SipModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  inject?: FactoryProvider['inject'];
  /** Builds the stack options, typically from APP_CONFIG and the app logger. */
  useFactory: (...deps: never[]) => SipStackOptions | Promise<SipStackOptions>;
}

@Injectable()
class SipStackLifecycle implements OnApplicationShutdown {
  constructor(@Inject(SIP_STACK) private readonly stack: SipStack) {}

  async onApplicationShutdown(): Promise<void> {
    await this.stack.close();
  }
}

/** Thin Nest wiring: starts one SipStack at boot (provided as SIP_STACK) and closes it at shutdown. */
@Module({})
export class SipModule {
  static forRootAsync(options: SipModuleAsyncOptions): DynamicModule {
    return {
      module: SipModule,
      imports: options.imports ?? [],
      providers: [
        {
          provide: SIP_STACK,
          inject: options.inject ?? [],
          useFactory: async (...deps: never[]) => SipStack.start(await options.useFactory(...deps)),
        },
        SipStackLifecycle,
      ],
      exports: [SIP_STACK],
    };
  }
}
