import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { GraphError } from '../domain/emulator.errors';
import type { EmulatorCore } from '../domain/emulator.core';
import { EMULATOR_CORE } from '../emulator.tokens';

/** Graph requests: a `vNN.N` version, the bearer token (401/190), then the phone number id (400/100). */
@Injectable()
export class GraphAuthGuard implements CanActivate {
  constructor(@Inject(EMULATOR_CORE) private readonly core: EmulatorCore) {}

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<Request>();
    const version = String(req.params['version'] ?? '');
    if (!/^v\d+\.\d+$/.test(version)) throw new GraphError(2500, 400, `Unknown path components: /${version}`);
    this.core.authorize(req.headers.authorization, String(req.params['phoneNumberId'] ?? ''));
    return true;
  }
}
