import { CALL_BUTTONS_KEPT, CallButtonBook } from './call-button.book';
import { ControlError } from './emulator.errors';

const WA_ID = '15552226666';
const SPEC = { bodyText: 'Call us', displayText: 'Call Now', ttlMinutes: 10 };
const T0 = 1_750_000_000_000;

function refusal(fn: () => unknown): ControlError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ControlError) return err;
    throw err;
  }
  throw new Error('expected a ControlError');
}

describe('CallButtonBook', () => {
  it(`keeps the newest ${CALL_BUTTONS_KEPT} buttons, newest first; an older one is unknown to a tap`, () => {
    const book = new CallButtonBook(WA_ID);
    for (let i = 0; i <= CALL_BUTTONS_KEPT; i++) book.record(`wamid.${i}`, SPEC, T0 + i);

    expect(book.list()).toHaveLength(CALL_BUTTONS_KEPT);
    expect(book.list()[0]?.messageId).toBe(`wamid.${CALL_BUTTONS_KEPT}`);
    expect(book.list()[CALL_BUTTONS_KEPT - 1]?.messageId).toBe('wamid.1');
    expect(refusal(() => book.tappable(T0, 'wamid.0'))).toMatchObject({ kind: 'not_found' });
    expect(book.tappable(T0, 'wamid.1').messageId).toBe('wamid.1');
  });

  it('a button can be tapped until ttl_minutes after it was sent, not at that instant', () => {
    const book = new CallButtonBook(WA_ID);
    const button = book.record('wamid.a', SPEC, T0);
    expect(button.expiresAt).toBe(T0 + 10 * 60_000);
    expect(book.tappable(button.expiresAt - 1).messageId).toBe('wamid.a');
    expect(refusal(() => book.tappable(button.expiresAt))).toMatchObject({
      kind: 'conflict',
      message: `call button expired at ${new Date(button.expiresAt).toISOString()} (message wamid.a)`,
    });
  });
});
