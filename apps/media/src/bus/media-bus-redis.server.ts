import { ServerRedis, type RedisOptions } from '@nestjs/microservices';
import { mediaRequestChannel } from '@wagw/contracts';

type ServerOptions = Required<RedisOptions>['options'];

/**
 * Nest's Redis transport server listening on this media instance's own request channels
 * (`<instanceId>/<pattern>`, libs/contracts mediaRequestChannel), so that signalling can spread calls over
 * several media apps on one Redis. The handlers keep their plain patterns; replies go to `<channel>.reply`,
 * where the sender waits. With no instance id it is Nest's server unchanged.
 */
export class MediaBusRedisServer extends ServerRedis {
  readonly #instanceId: string;
  readonly #prefix: string;

  constructor(options: ServerOptions, instanceId: string) {
    super(options);
    this.#instanceId = instanceId;
    this.#prefix = mediaRequestChannel(instanceId, '');
  }

  override getRequestPattern(pattern: string): string {
    return mediaRequestChannel(this.#instanceId, pattern);
  }

  override getHandlerByPattern(channel: string): ReturnType<ServerRedis['getHandlerByPattern']> {
    const pattern = this.#prefix !== '' && channel.startsWith(this.#prefix) ? channel.slice(this.#prefix.length) : channel;
    return super.getHandlerByPattern(pattern);
  }
}
