import { IsString, Matches } from 'class-validator';

/** POST /v1/calls/{id}/transfer: where the call goes (blind transfer through the call's trunk). */
export class TransferCallDto {
  /** An extension or queue on the PBX (`1002`), or a SIP URI (`sip:1002@pbx.example.com`). */
  @IsString()
  @Matches(/^(sips?:[^\s<>"]{3,200}|[A-Za-z0-9_.+*#-]{1,64})$/, { message: 'to must be an extension (e.g. 1002) or a SIP URI (sip:1002@pbx.example.com)' })
  to!: string;
}
