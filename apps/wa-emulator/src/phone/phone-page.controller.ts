import { Controller, Get, Param, Res, UseFilters } from '@nestjs/common';
import type { Response } from 'express';
import { ControlError } from '../domain/emulator.errors';
import { WA_ID_PATTERN } from '../domain/users.registry';
import { ControlExceptionFilter } from '../http/control-exception.filter';
import { loadPhoneAssets, type PhoneAsset } from './phone-assets';

/**
 * The WhatsApp user's phone page: `GET /phone/:waId` (add `?media=browser` to use this browser's
 * microphone and speaker as the user's media) and its static files under `/phone/assets/`. Everything it
 * does goes through the control API (/emulator/users/:waId...), as a test would.
 */
@Controller('phone')
@UseFilters(ControlExceptionFilter)
export class PhonePageController {
  readonly #assets: ReadonlyMap<string, PhoneAsset> = loadPhoneAssets();

  @Get('assets/:file')
  asset(@Param('file') file: string, @Res() res: Response): void {
    const asset = this.#assets.get(file);
    if (!asset || file === 'phone.html') throw new ControlError('not_found', `no phone asset ${file}`);
    this.#send(res, asset);
  }

  @Get(':waId')
  page(@Param('waId') waId: string, @Res() res: Response): void {
    if (!WA_ID_PATTERN.test(waId)) throw new ControlError('invalid', `waId must be 6-15 digits (E.164 without +), got ${JSON.stringify(waId)}`);
    this.#send(res, this.#assets.get('phone.html') as PhoneAsset);
  }

  #send(res: Response, asset: PhoneAsset): void {
    res.status(200).set({ 'content-type': asset.contentType, 'cache-control': 'no-store' }).send(asset.body);
  }
}
