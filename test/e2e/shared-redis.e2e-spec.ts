import type { CallRecord } from '@wagw/call-state';
import { activeCall, startStack, type Stack } from '../support/stack';
import { expectNoLeaks } from '../support/leaks';
import { userHeard } from '../support/pbx-to-whatsapp';

/**
 * Two gateways sharing one Redis (each with its own redis.keyPrefix, as the config reference promises): Redis
 * pub/sub channels are global to the server, so each gateway's signalling <-> media bus runs on channels
 * under its own prefix. A call on each gateway at the same time: each media app makes only its own gateway's
 * leg, each user hears their gateway's tone, and both end cleanly.
 */
describe('two gateways on one Redis', () => {
  const stacks: Stack[] = [];

  beforeAll(async () => {
    // startStack gives each stack a key prefix of its own
    stacks.push(await startStack({ name: 'shared-redis-a' }), await startStack({ name: 'shared-redis-b' }));
  });

  afterAll(async () => {
    for (const s of stacks) await s.close();
  });

  async function userCalls(stack: Stack, user: string): Promise<CallRecord> {
    await stack.emu('POST', '/emulator/users', { waId: user, name: 'Shared' });
    const { waCallId } = await stack.emu<{ waCallId: string }>('POST', `/emulator/users/${user}/call`, {});
    return activeCall(stack, waCallId);
  }

  it("keeps each gateway's media requests, replies and events to itself", async () => {
    const [a, b] = stacks as [Stack, Stack];
    expect(a.config.redis.keyPrefix).not.toBe(b.config.redis.keyPrefix);
    const users = ['15553220001', '15553220002'];
    const calls = await Promise.all([userCalls(a, users[0] as string), userCalls(b, users[1] as string)]);

    for (const [i, stack] of [a, b].entries()) {
      const health = (await (await fetch(`${stack.media.httpUrl}/health`)).json()) as { legs: number };
      expect(health.legs).toBe(1);
      expect(await userHeard(stack, users[i] as string, 400)).toBeGreaterThanOrEqual(25);
      expect(calls[i]?.waLegId).toBeDefined();
    }

    await a.emu('POST', `/emulator/users/${users[0]}/hangup`);
    await b.emu('POST', `/emulator/users/${users[1]}/hangup`);
    await expectNoLeaks(a);
    await expectNoLeaks(b);
  });
});
