import { IsString, Length, Matches } from 'class-validator';

/** POST /v1/calls: an agent calls a WhatsApp user. */
export class StartCallDto {
  /** The WhatsApp user's number, E.164 with or without +. */
  @IsString()
  @Matches(/^\+?[\d\s().-]{6,20}$/, { message: 'to must be a phone number in E.164, e.g. +15552223333' })
  to!: string;

  /** The agent's phone behind the PBX trunk: an extension (1001) or a SIP URI. */
  @IsString()
  @Length(1, 200)
  agent!: string;
}
