import { IsIn, IsInt, IsOptional, IsString, Matches, MaxLength, Min } from 'class-validator';
import { USER_MEDIA_MODES, type UserMediaMode } from '../media/media-mode.factory';

/** Bodies of the browser media routes (/emulator/users/:waId/media-mode, .../browser-media/*). */

export class MediaModeDto {
  @IsIn(USER_MEDIA_MODES)
  mode!: UserMediaMode;
}

/** The page's answer to a job: `sdp` for createOffer/answerOffer, or `error`. */
export class BrowserJobResultDto {
  @IsOptional()
  @IsString()
  @MaxLength(64_000)
  sdp?: string;

  @IsOptional()
  @IsString()
  @MaxLength(2_000)
  error?: string;
}

export class BrowserMediaReportDto {
  @Matches(/^[\w.:=-]{1,200}$/)
  callId!: string;

  @IsIn(['new', 'connecting', 'connected', 'disconnected', 'failed', 'closed'])
  connectionState!: string;

  @IsInt()
  @Min(0)
  packetsReceived!: number;

  @IsInt()
  @Min(0)
  packetsSent!: number;
}
