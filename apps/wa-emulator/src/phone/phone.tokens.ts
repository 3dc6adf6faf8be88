import type { BrowserMediaHub } from '../media/browser-media.hub';
import type { SwitchingUserMediaFactory } from '../media/media-mode.factory';

/** DI token of the phone page's services: the browser media relay and the per-user media mode switch. */
export const PHONE_SERVICES = Symbol('PHONE_SERVICES');

export interface PhoneServices {
  hub: BrowserMediaHub;
  media: SwitchingUserMediaFactory;
}
