import { Controller, Get, Inject } from '@nestjs/common';
import type { EmulatorCore } from '../domain/emulator.core';
import { EMULATOR_CORE } from '../emulator.tokens';

@Controller('health')
export class HealthController {
  constructor(@Inject(EMULATOR_CORE) private readonly core: EmulatorCore) {}

  @Get()
  health(): Record<string, unknown> {
    const calls = this.core.listCalls();
    return { status: 'ok', users: this.core.users.list().length, activeCalls: calls.filter((c) => c['state'] !== 'ended').length };
  }
}
