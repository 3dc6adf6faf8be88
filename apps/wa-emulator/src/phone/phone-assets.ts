import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The phone page's static files (assets/ next to this module; the build copies them to dist). */
export const PHONE_ASSET_TYPES: Readonly<Record<string, string>> = {
  'phone.html': 'text/html; charset=utf-8',
  'phone.css': 'text/css; charset=utf-8',
  'phone.js': 'text/javascript; charset=utf-8',
  'phone-media.js': 'text/javascript; charset=utf-8',
};

export interface PhoneAsset {
  body: string;
  contentType: string;
}

/** Reads every asset once; throws at boot if one is missing (a build that did not copy assets/). */
export function loadPhoneAssets(dir = join(__dirname, 'assets')): ReadonlyMap<string, PhoneAsset> {
  const assets = new Map<string, PhoneAsset>();
  for (const [name, contentType] of Object.entries(PHONE_ASSET_TYPES)) {
    assets.set(name, { body: readFileSync(join(dir, name), 'utf8'), contentType });
  }
  return assets;
}
