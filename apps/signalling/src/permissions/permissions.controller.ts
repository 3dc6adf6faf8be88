import { Body, Controller, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { IsString, Length } from 'class-validator';
import { refusalError } from '@wagw/permissions';
import { ApiTokenGuard } from '../api/api-token.guard';
import { IsOmittable } from '../api/omittable';
import { normalizeWaId } from '../calls/start-agent-call.use-case';
import { PermissionService, type PermissionView } from './permission.service';

export class RequestPermissionDto {
  /** Optional text of the request (Meta allows only the body to be customised). */
  @IsOmittable()
  @IsString()
  @Length(1, 1024)
  bodyText?: string;
}

/** Call permission of a WhatsApp user: state, kind, expiry, quota left and the next request time. */
@Controller('v1/permissions')
@UseGuards(ApiTokenGuard)
export class PermissionsController {
  constructor(private readonly permissions: PermissionService) {}

  @Get(':waId')
  view(@Param('waId') waId: string): Promise<PermissionView> {
    return this.permissions.view(normalizeWaId(waId));
  }

  @Post(':waId/request')
  @HttpCode(202)
  async request(@Param('waId') waId: string, @Body() body: RequestPermissionDto): Promise<{ messageId: string; permission: PermissionView }> {
    const id = normalizeWaId(waId);
    const decision = await this.permissions.decideForCall(id);
    if (decision.action === 'refuse') throw refusalError(decision);
    const { messageId } = await this.permissions.request(id, body.bodyText ? { bodyText: body.bodyText } : {});
    return { messageId, permission: await this.permissions.view(id) };
  }
}
