import { Inject, Logger, Module, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { Clock } from '../../common/clock.js';
import type { AppConfig } from '../../config/app.config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { DestinationRegistry } from '../../delivery/destination-registry.js';
import { displayUrl } from '../../delivery/redaction.js';
import { settingsOf } from '../../delivery/destination.plugin.js';
import { ElasticsearchDestination } from './elasticsearch.destination.js';
import { elasticsearchPlugin } from './elasticsearch.plugin.js';

/**
 * Registers the Elasticsearch log destination with the delivery core when
 * ELASTICSEARCH_URL (or _HOST) is set; does nothing otherwise.
 */
@Module({})
export class ElasticsearchModule implements OnModuleInit, OnApplicationShutdown {
  // Excluded from VIGIL_SHIP_OWN_LOGS by its context (see own-log.stream.ts).
  private readonly logger = new Logger('ElasticsearchDestination');
  private destination: ElasticsearchDestination | null = null;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly registry: DestinationRegistry,
    private readonly clock: Clock,
  ) {}

  onModuleInit(): void {
    const elasticsearch = settingsOf(elasticsearchPlugin, this.config);
    if (!elasticsearch) return;
    this.destination = new ElasticsearchDestination(elasticsearch, this.config.environment, this.clock);
    this.registry.register(this.destination);
    this.logger.log(`Shipping logs to Elasticsearch at ${displayUrl(elasticsearch.url)} into ${elasticsearch.indexPrefix}-YYYY.MM.DD`);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.destination?.close();
  }
}
