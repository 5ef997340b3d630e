import { Inject, Logger, Module, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { Clock } from '../../common/clock.js';
import type { AppConfig } from '../../config/app.config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { DestinationRegistry } from '../../delivery/destination-registry.js';
import { displayUrl } from '../../delivery/redaction.js';
import { settingsOf } from '../../delivery/destination.plugin.js';
import { SplunkDestination } from './splunk.destination.js';
import { splunkPlugin } from './splunk.plugin.js';
import { HecClient, createHecAgent } from './splunk.transport.js';

/**
 * Registers the Splunk HEC log destination with the delivery core when
 * SPLUNK_HEC_URL (or SPLUNK_HOST) and SPLUNK_HEC_TOKEN are set. Reads
 * SPLUNK_CA_FILE here, at startup: an unreadable file stops the start.
 */
@Module({})
export class SplunkModule implements OnModuleInit, OnApplicationShutdown {
  // Excluded from VIGIL_SHIP_OWN_LOGS by its context (see own-log.stream.ts).
  private readonly logger = new Logger('SplunkDestination');
  private destination: SplunkDestination | null = null;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly registry: DestinationRegistry,
    private readonly clock: Clock,
  ) {}

  onModuleInit(): void {
    const splunk = settingsOf(splunkPlugin, this.config);
    if (!splunk) return;
    const agent = createHecAgent(splunk);
    const url = new URL(splunk.url);
    if (url.protocol === 'https:' && !splunk.tlsVerify) {
      this.logger.warn('SPLUNK_TLS_VERIFY=false: the HEC certificate is not verified, so the HEC token can be taken by anyone in the path');
    }
    if (url.protocol === 'http:') {
      this.logger.warn('SPLUNK_HEC_URL is plain http: the HEC token and the logs travel unencrypted');
    }
    this.destination = new SplunkDestination(splunk, this.config.environment, new HecClient(splunk, splunk.token, agent), this.clock);
    this.registry.register(this.destination);
    this.logger.log(
      `Shipping logs to Splunk HEC at ${displayUrl(splunk.url)}${splunk.index ? ` (index ${splunk.index})` : ''}${splunk.caFile ? ', trusting SPLUNK_CA_FILE' : ''}`,
    );
  }

  onApplicationShutdown(): void {
    this.destination?.close();
  }
}
