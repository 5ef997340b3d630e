import { Inject, Logger, Module, type OnModuleInit } from '@nestjs/common';
import { logger as datadogClientLogger } from '@datadog/datadog-api-client';
import { Clock } from '../../common/clock.js';
import type { AppConfig } from '../../config/app.config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { DestinationRegistry } from '../../delivery/destination-registry.js';
import { displayUrl } from '../../delivery/redaction.js';
import { settingsOf } from '../../delivery/destination.plugin.js';
import { DatadogDestination, datadogBaseUrl } from './datadog.destination.js';
import { datadogPlugin } from './datadog.plugin.js';

/** Registers the Datadog destination when DATADOG_API_KEY is set. */
@Module({})
export class DatadogModule implements OnModuleInit {
  private readonly logger = new Logger('Datadog');

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly registry: DestinationRegistry,
    private readonly clock: Clock,
  ) {}

  onModuleInit(): void {
    const datadog = settingsOf(datadogPlugin, this.config);
    if (datadog === null) return;
    // The client logs every failed request to the console itself; the delivery core
    // already logs failures once per streak, as JSON.
    datadogClientLogger.setLevel('silent');
    this.registry.register(new DatadogDestination(datadog, this.config.environment, this.clock));
    this.logger.log(`Forwarding metrics, events and request timings to Datadog at ${displayUrl(datadogBaseUrl(datadog))}`);
  }
}
