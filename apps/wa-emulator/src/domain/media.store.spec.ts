import { createHash } from 'node:crypto';
import { Clock, DAY_MS } from './clock';
import { MEDIA_STORE_LIMITS, MediaStore } from './media.store';

const MIME = 'audio/ogg; codecs=opus';

function bytes(n: number, fill = 1): Buffer {
  return Buffer.alloc(n, fill);
}

describe('MediaStore', () => {
  let clock: Clock;

  beforeEach(() => {
    clock = new Clock(() => 1_700_000_000_000);
  });

  it('put keeps the bytes under a new 16-digit media id with their hex SHA-256, size, type and creation time', () => {
    const store = new MediaStore(clock);
    const data = Buffer.from('OggS pretend voicemail');

    const media = store.put(data, MIME);

    expect(media).toEqual({
      id: expect.stringMatching(/^[1-9]\d{15}$/),
      bytes: data,
      mimeType: MIME,
      sha256: createHash('sha256').update(data).digest('hex'),
      fileSize: data.length,
      createdAt: clock.now(),
      expiresAt: clock.now() + 7 * DAY_MS,
    });
    expect(store.get(media.id)).toBe(media);
    expect(store.get('1234567890123456')).toBeUndefined();
    expect(store.put(data, MIME).id).not.toBe(media.id);
  });

  it('an id is served for 7 days on the emulator clock, then forgotten (Meta: webhook media ids expire after 7 days)', () => {
    const store = new MediaStore(clock);
    const media = store.put(bytes(10), MIME);
    expect(MEDIA_STORE_LIMITS.ttlMs).toBe(7 * DAY_MS);

    clock.advance(7 * DAY_MS - 1);
    expect(store.get(media.id)).toBe(media);
    expect(media.expiresAt).toBe(media.createdAt + 7 * DAY_MS);

    clock.advance(1);
    expect(store.get(media.id)).toBeUndefined();
    expect(store.size).toBe(0);
    expect(store.totalBytes).toBe(0);
  });

  it('an item put with its own ttlMs (an upload: 30 days) lives that long, whatever the default, and keeps its use case', () => {
    const store = new MediaStore(clock);
    const recording = store.put(bytes(10), MIME);
    const upload = store.put(bytes(20), MIME, { ttlMs: 30 * DAY_MS, useCase: 'call_voicemail_announcement' });
    expect(upload).toMatchObject({ expiresAt: upload.createdAt + 30 * DAY_MS, useCase: 'call_voicemail_announcement' });
    expect(recording).not.toHaveProperty('useCase');

    clock.advance(7 * DAY_MS);
    expect([store.get(recording.id), store.get(upload.id)]).toEqual([undefined, upload]);

    clock.advance(23 * DAY_MS - 1);
    expect(store.get(upload.id)).toBe(upload);
    clock.advance(1);
    expect(store.get(upload.id)).toBeUndefined();
    expect({ size: store.size, totalBytes: store.totalBytes }).toEqual({ size: 0, totalBytes: 0 });
  });

  it('past maxItems the oldest items are dropped first', () => {
    const store = new MediaStore(clock, { maxItems: 3 });
    const ids = [1, 2, 3, 4, 5].map((i) => store.put(bytes(i), MIME).id);

    expect(ids.map((id) => store.get(id) !== undefined)).toEqual([false, false, true, true, true]);
    expect(store.size).toBe(3);
    expect(store.totalBytes).toBe(3 + 4 + 5);
  });

  it('past maxBytes the oldest items are dropped first until the total fits; one item over the cap is refused', () => {
    const store = new MediaStore(clock, { maxBytes: 100 });
    const a = store.put(bytes(40), MIME);
    const b = store.put(bytes(40), MIME);
    const c = store.put(bytes(30), MIME);

    expect([a, b, c].map((m) => store.get(m.id) !== undefined)).toEqual([false, true, true]);
    expect(store.totalBytes).toBe(70);
    expect(() => store.put(bytes(101), MIME)).toThrow(RangeError);
    expect(store.size).toBe(2);
  });

  it('the default caps are 500 items and 64 MB', () => {
    expect(MEDIA_STORE_LIMITS).toMatchObject({ maxItems: 500, maxBytes: 64 * 1024 * 1024 });
  });

  it('expired items do not count against the caps of a later put', () => {
    const store = new MediaStore(clock, { maxItems: 2 });
    const old = store.put(bytes(5), MIME);
    clock.advance(8 * DAY_MS);
    const fresh = [store.put(bytes(6), MIME), store.put(bytes(7), MIME)];

    expect(store.size).toBe(2);
    expect(store.totalBytes).toBe(13);
    expect(store.get(old.id)).toBeUndefined();
    expect(fresh.every((m) => store.get(m.id) === m)).toBe(true);
  });

  it('clear forgets everything', () => {
    const store = new MediaStore(clock);
    const media = store.put(bytes(10), MIME);
    store.clear();
    expect(store.get(media.id)).toBeUndefined();
    expect({ size: store.size, totalBytes: store.totalBytes }).toEqual({ size: 0, totalBytes: 0 });
  });
});
