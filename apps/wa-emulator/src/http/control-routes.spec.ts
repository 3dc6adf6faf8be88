import type { ArgumentsHost } from '@nestjs/common';
import { RequestMethod } from '@nestjs/common';
import { HTTP_CODE_METADATA, METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { silentLogger } from '@wagw/logging';
import { type TestCore, freshTestCore, thrown } from '../../test/core-harness';
import { VOICEMAIL_NOT_ENABLED } from '../domain/voicemail.flow';
import { ControlEmulatorController } from './control-emulator.controller';
import { ControlExceptionFilter } from './control-exception.filter';
import { ControlUsersController } from './control-users.controller';
import { AccountEventDto, VoicemailDto } from './control.dto';

const WA_ID = '15552224444';

/** The route a controller method serves: `METHOD /base/path` and its success status. */
function route(controller: new (...args: never[]) => unknown, method: string): { route: string; status: number | undefined } {
  const handler = (controller.prototype as Record<string, unknown>)[method] as object;
  const verb = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod];
  return {
    route: `${verb} /${Reflect.getMetadata(PATH_METADATA, controller) as string}/${Reflect.getMetadata(PATH_METADATA, handler) as string}`,
    status: Reflect.getMetadata(HTTP_CODE_METADATA, handler) as number | undefined,
  };
}

/** What ControlExceptionFilter writes for an error thrown by a handler. */
function httpAnswer(err: unknown): { status: number; body: unknown } {
  const out: { status: number; body: unknown } = { status: 0, body: undefined };
  const res = {
    status(code: number) {
      out.status = code;
      return res;
    },
    json(body: unknown) {
      out.body = body;
    },
  };
  const host = { switchToHttp: () => ({ getResponse: () => res }) } as unknown as ArgumentsHost;
  new ControlExceptionFilter(silentLogger()).catch(err, host);
  return out;
}


describe('control routes: voicemail and account events', () => {
  let h: TestCore;

  freshTestCore((c) => (h = c));

  it('POST /emulator/users/:waId/voicemail and POST /emulator/account/events answer 200', () => {
    expect(route(ControlUsersController, 'voicemail')).toEqual({ route: 'POST /emulator/users/:waId/voicemail', status: 200 });
    expect(route(ControlEmulatorController, 'accountEvent')).toEqual({ route: 'POST /emulator/account/events', status: 200 });
  });

  it('the voicemail route answers {waCallId, mediaId, sha256, fileSize}; its refusals become 404 and 409 with the reason', async () => {
    const users = new ControlUsersController(h.core);
    expect(httpAnswer(thrown(() => users.voicemail(WA_ID, new VoicemailDto())))).toEqual({ status: 404, body: { error: { kind: 'not_found', message: `no user ${WA_ID}` } } });

    const { waCallId } = await h.core.userCall(WA_ID);
    await h.core.callsAction({ messaging_product: 'whatsapp', call_id: waCallId, action: 'reject' });
    expect(httpAnswer(thrown(() => users.voicemail(WA_ID, new VoicemailDto())))).toEqual({ status: 409, body: { error: { kind: 'conflict', message: VOICEMAIL_NOT_ENABLED } } });

    h.core.updateSettings({ calling: { voicemail: { status: 'ENABLED', triggers: ['REJECT'] } } });
    const dto = Object.assign(new VoicemailDto(), { waCallId, durationS: 1, toneHz: 1000 });
    expect(users.voicemail(WA_ID, dto)).toEqual({ waCallId, mediaId: expect.stringMatching(/^\d{16}$/), sha256: expect.stringMatching(/^[0-9a-f]{64}$/), fileSize: expect.any(Number) });
    expect(h.core.callView(waCallId)['voicemail']).toMatchObject({ durationS: 1, toneHz: 1000 });
  });

  it('the account events route sends the event and answers the change sent', () => {
    const emulator = new ControlEmulatorController(h.core);
    const body = Object.assign(new AccountEventDto(), { event: 'ACCOUNT_VIOLATION', violationType: 'LOW_CALLING_QUALITY' });
    expect(emulator.accountEvent(body)).toEqual({
      field: 'account_update',
      value: { phone_number: h.config.whatsapp.businessNumber, event: 'ACCOUNT_VIOLATION', violation_info: { violation_type: 'LOW_CALLING_QUALITY' } },
    });
    expect(h.core.webhookLog({ kind: 'account_update' })).toHaveLength(1);
  });
});
