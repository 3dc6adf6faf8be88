import { Test } from '@nestjs/testing';
import { SIP_STACK, SipModule, SipStack } from '@wagw/sip';
import { testLogger } from './helpers';

describe('SipModule', () => {
  it('starts a SipStack from the factory options and closes it at application shutdown', async () => {
    const logger = testLogger(process.env['SIP_TEST_LOG']);
    const moduleRef = await Test.createTestingModule({
      imports: [SipModule.forRootAsync({ useFactory: () => ({ listen: { host: '127.0.0.1', udpPort: 0 }, logger }) })],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    app.enableShutdownHooks();
    await app.init();
    const stack = app.get<SipStack>(SIP_STACK);
    expect(stack).toBeInstanceOf(SipStack);
    expect(stack.ports.udp).toBeGreaterThan(0);
    await app.close();
    expect(() => stack.invite({ target: 'sip:a@127.0.0.1:5060', from: { user: 'x' }, sdp: '' })).toThrow('closed');
  });
});
