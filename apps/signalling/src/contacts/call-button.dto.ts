import { IsInt, IsString, Length, Max, MaxLength, Min } from 'class-validator';
import { CALL_BUTTON_LIMITS as L } from '@wagw/whatsapp';
import { IsOmittable } from '../api/omittable';

/**
 * POST /v1/contacts/{waId}/call-button: a "call us" button sent in the user's WhatsApp chat (Meta's interactive
 * `voice_call` message, reference §3.8); the user's tap calls the business, and `payload` comes back with the
 * call (pbx.routes[].entryPoints may route on it).
 */
export class SendCallButtonDto {
  /** The message text above the button. */
  @IsString()
  @Length(1, L.bodyTextMax)
  bodyText!: string;

  /** The button's label (Meta's default "Call Now"). */
  @IsOmittable()
  @IsString()
  @Length(1, L.displayTextMax)
  displayText?: string;

  /** Minutes the button may be tapped (Meta's default 10080, 7 days). */
  @IsOmittable()
  @IsInt()
  @Min(L.ttlMinutesMin)
  @Max(L.ttlMinutesMax)
  ttlMinutes?: number;

  /** Comes back as the call's entry payload, e.g. `queue=billing`. */
  @IsOmittable()
  @IsString()
  @MaxLength(L.payloadMax)
  payload?: string;
}
