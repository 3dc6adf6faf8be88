import { type CanActivate, type ExecutionContext, Inject, Injectable, NotFoundException } from '@nestjs/common';
import type { Request } from 'express';
import { GraphError } from '../domain/emulator.errors';
import type { EmulatorCore } from '../domain/emulator.core';
import { EMULATOR_CORE } from '../emulator.tokens';

function requestOf(context: ExecutionContext): Request {
  return context.switchToHttp().getRequest<Request>();
}

/** A `vNN.N` version as the first path segment (400/2500). */
function assertVersion(req: Request): void {
  const version = String(req.params['version'] ?? '');
  if (!/^v\d+\.\d+$/.test(version)) throw new GraphError(2500, 400, `Unknown path components: /${version}`);
}

/** Graph requests on the business number: a `vNN.N` version, the bearer token (401/190), then the phone number id (400/100). */
@Injectable()
export class GraphAuthGuard implements CanActivate {
  constructor(@Inject(EMULATOR_CORE) private readonly core: EmulatorCore) {}

  canActivate(context: ExecutionContext): boolean {
    const req = requestOf(context);
    assertVersion(req);
    this.core.authorize(req.headers.authorization, String(req.params['phoneNumberId'] ?? ''));
    return true;
  }
}

/**
 * Graph requests on another object (GET /<MEDIA_ID>): a `vNN.N` version and the bearer token (401/190); no
 * phone number in the path. This route matches every two-segment path, so one whose first segment is no
 * version is not a Graph request at all: 404, as any unknown path of the emulator.
 */
@Injectable()
export class GraphTokenGuard implements CanActivate {
  constructor(@Inject(EMULATOR_CORE) private readonly core: EmulatorCore) {}

  canActivate(context: ExecutionContext): boolean {
    const req = requestOf(context);
    if (!/^v\d+\.\d+$/.test(String(req.params['version'] ?? ''))) throw new NotFoundException(`Cannot ${req.method} ${req.path}`);
    this.core.authorizeToken(req.headers.authorization);
    return true;
  }
}

/** The media download URL: the bearer token only (401/190), which Meta requires on the download as well. */
@Injectable()
export class BearerTokenGuard implements CanActivate {
  constructor(@Inject(EMULATOR_CORE) private readonly core: EmulatorCore) {}

  canActivate(context: ExecutionContext): boolean {
    this.core.authorizeToken(requestOf(context).headers.authorization);
    return true;
  }
}
