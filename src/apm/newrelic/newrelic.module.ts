import { Inject, Logger, Module, type OnModuleInit } from '@nestjs/common';
import { Clock } from '../../common/clock.js';
import type { AppConfig } from '../../config/app.config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { DestinationRegistry } from '../../delivery/destination-registry.js';
import { settingsOf } from '../../delivery/destination.plugin.js';
import { NewRelicDestination } from './newrelic.destination.js';
import { newRelicPlugin } from './newrelic.plugin.js';

/** Registers the New Relic destination when NEW_RELIC_LICENSE_KEY is set. */
@Module({})
export class NewRelicModule implements OnModuleInit {
  private readonly logger = new Logger('NewRelic');

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly registry: DestinationRegistry,
    private readonly clock: Clock,
  ) {}

  onModuleInit(): void {
    const newRelic = settingsOf(newRelicPlugin, this.config);
    if (newRelic === null) return;
    this.registry.register(new NewRelicDestination(newRelic, this.config.environment, this.clock));
    const metricHost = new URL(newRelic.metricApiUrl).host;
    if (newRelic.eventApiUrl) {
      this.logger.log(`Forwarding metrics and request timings (Metric API, ${metricHost}) and events (Event API, ${new URL(newRelic.eventApiUrl).host}) to New Relic`);
    } else {
      this.logger.warn(
        `Forwarding metrics and request timings to New Relic (${metricHost}); events are NOT sent to New Relic: set NEW_RELIC_ACCOUNT_ID or NEW_RELIC_EVENT_API_URL`,
      );
    }
  }
}
