import { BadRequestException, Body, Controller, Get, HttpCode, Post, Query, UseGuards } from '@nestjs/common';
import { IsObject } from 'class-validator';
import { ApiTokenGuard } from '../api/api-token.guard';
import { ConfigReloadService, type ReloadResult } from './config-reload.service';
import { WhatsAppSettingsService, type AnnouncementUploaded, type WhatsAppSettingsView } from './whatsapp-settings.service';

/** `POST /v1/admin/whatsapp-settings`: a `calling` block in Meta's own shape (reference §5.1). */
export class WhatsAppSettingsDto {
  @IsObject({ message: 'calling must be an object: the calling block of POST /<PHONE_NUMBER_ID>/settings, in Meta\'s snake_case' })
  calling!: Record<string, unknown>;
}

/** Operator actions (bearer `signalling.apiToken`). */
@Controller('v1/admin')
@UseGuards(ApiTokenGuard)
export class AdminController {
  constructor(
    private readonly reloader: ConfigReloadService,
    private readonly settings: WhatsAppSettingsService,
  ) {}

  /** 200 with what was applied and what needs a restart; 422 with the problems when the file is invalid. */
  @Post('reload')
  @HttpCode(200)
  reload(): ReloadResult {
    return this.reloader.reload();
  }

  /** The business number's calling settings at Meta, its restrictions, and what an operator should know. */
  @Get('whatsapp-settings')
  whatsappSettings(): Promise<WhatsAppSettingsView> {
    return this.settings.read();
  }

  /**
   * Uploads a voicemail announcement (the body: an Ogg Opus file under 60 s, Content-Type audio/ogg) to Meta;
   * `?apply=true` also names it in the voicemail settings. 201 with the media id.
   */
  @Post('whatsapp-voicemail-announcement')
  @HttpCode(201)
  voicemailAnnouncement(@Body() body: unknown, @Query('apply') apply?: string): Promise<AnnouncementUploaded> {
    if (!Buffer.isBuffer(body)) throw new BadRequestException('send the Ogg Opus file itself as the body, with Content-Type audio/ogg');
    if (apply !== undefined && apply !== 'true' && apply !== 'false') throw new BadRequestException(`apply must be true or false, got ${JSON.stringify(apply)}`);
    return this.settings.uploadAnnouncement(body, apply === 'true');
  }

  /** Changes them at Meta (400 `WA_SETTINGS_REFUSED` with Meta's reason), then answers them as read back. */
  @Post('whatsapp-settings')
  @HttpCode(200)
  changeWhatsappSettings(@Body() body: WhatsAppSettingsDto): Promise<WhatsAppSettingsView> {
    return this.settings.update(body.calling);
  }
}
