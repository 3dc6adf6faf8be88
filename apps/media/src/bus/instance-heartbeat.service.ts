import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { APP_CONFIG, type AppConfig } from '@wagw/config';
import { MEDIA_HEARTBEAT_MS, MediaInstanceRegistry, redisKeys } from '@wagw/call-state';
import type { Logger } from '@wagw/logging';
import { MEDIA_LOGGER } from '../media.tokens';

/**
 * A named media instance (media.instanceId) tells signalling it is alive: a heartbeat in Redis every
 * MEDIA_HEARTBEAT_MS, removed at shutdown before the legs are drained, so no new call comes to an instance
 * on its way out. An unnamed (single) media app writes nothing.
 */
@Injectable()
export class InstanceHeartbeatService implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  readonly #instanceId: string;
  #redis: Redis | undefined;
  #registry: MediaInstanceRegistry | undefined;
  #timer: NodeJS.Timeout | undefined;
  #failing = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(MEDIA_LOGGER) private readonly logger: Logger,
  ) {
    this.#instanceId = config.media.instanceId;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.#instanceId === '') return;
    this.#redis = new Redis(this.config.redis.url, { lazyConnect: false, maxRetriesPerRequest: 1 });
    this.#redis.on('error', () => undefined); // reported by the failing heartbeat below, once per outage
    this.#registry = new MediaInstanceRegistry(this.#redis, redisKeys(this.config.redis.keyPrefix));
    await this.#beat();
    this.#timer = setInterval(() => void this.#beat(), MEDIA_HEARTBEAT_MS);
    this.logger.info({ instanceId: this.#instanceId, everyMs: MEDIA_HEARTBEAT_MS }, 'media instance announced to signalling');
  }

  async #beat(): Promise<void> {
    try {
      await this.#registry?.heartbeat(this.#instanceId);
      if (this.#failing) this.logger.info({ instanceId: this.#instanceId }, 'media instance heartbeat written again');
      this.#failing = false;
    } catch (err) {
      if (!this.#failing) this.logger.error({ err, instanceId: this.#instanceId }, 'media instance heartbeat failed: signalling gives this instance no new calls until it is written again');
      this.#failing = true;
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#registry?.remove(this.#instanceId).catch((err: unknown) => this.logger.warn({ err }, 'media instance heartbeat not removed'));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.#redis?.quit().catch(() => undefined);
    this.#redis = undefined;
  }
}
