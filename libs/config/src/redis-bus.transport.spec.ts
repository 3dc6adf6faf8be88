import { busChannelPrefix, busRedisOptions, PrefixedRedisServer } from './redis-bus.transport';

describe('PrefixedRedisServer', () => {
  it("subscribes every handler's pattern under the prefix and finds the handler of a prefixed channel", () => {
    const server = new PrefixedRedisServer({ host: '127.0.0.1', port: 6379 }, busChannelPrefix('gw-a') + 'media-2/');
    const request = jest.fn();
    const event = jest.fn();
    server.addHandler('media.wa-leg.create', request, false);
    server.addHandler('media.wa-leg.state-changed', event, true);
    const subscribed: string[] = [];
    const handlers: string[] = [];
    server.bindEvents({ on: (name: string) => void handlers.push(name), subscribe: (channel: string) => void subscribed.push(channel) }, {});

    expect(handlers).toEqual(['message']);
    expect(subscribed.sort()).toEqual(['gw-a:media-2/media.wa-leg.create', 'gw-a:media-2/media.wa-leg.state-changed']);
    expect(server.getHandlerByPattern('gw-a:media-2/media.wa-leg.create')).toBe(request);
    // another gateway's or another instance's channel finds nothing here
    expect(server.getHandlerByPattern('gw-b:media-2/media.wa-leg.create')).toBeNull();
    expect(server.getHandlerByPattern('gw-a:media-1/media.wa-leg.create')).toBeNull();
  });
});

describe('busRedisOptions', () => {
  it('connects where the Redis URL says, with auto-pipelining on', () => {
    expect(busRedisOptions('redis://:s%40cret@10.0.0.7:6380/2')).toEqual({ host: '10.0.0.7', port: 6380, password: 's@cret', db: 2, enableAutoPipelining: true });
    expect(busRedisOptions('redis://127.0.0.1')).toEqual({ host: '127.0.0.1', port: 6379, enableAutoPipelining: true });
  });
});
