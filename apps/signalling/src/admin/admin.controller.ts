import { Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiTokenGuard } from '../api/api-token.guard';
import { ConfigReloadService, type ReloadResult } from './config-reload.service';

/** Operator actions (bearer `signalling.apiToken`). */
@Controller('v1/admin')
@UseGuards(ApiTokenGuard)
export class AdminController {
  constructor(private readonly reloader: ConfigReloadService) {}

  /** 200 with what was applied and what needs a restart; 422 with the problems when the file is invalid. */
  @Post('reload')
  @HttpCode(200)
  reload(): ReloadResult {
    return this.reloader.reload();
  }
}
