import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { Clock } from '../../common/clock.js';
import type { AppConfig } from '../../config/app.config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { IngestHooks } from '../../ingest/ingest-hooks.js';
import { VigilMetrics } from '../../common/vigil.metrics.js';
import { ReexposedMetrics } from './reexposed-metrics.js';

/**
 * Wires the re-exposition of ingested metrics into the app: every metric item this replica commits is applied
 * to a ReexposedMetrics on the process registry, so it appears on /metrics as `vigil_app_*`.
 * Limits come from VIGIL_METRICS_MAX_SERIES, VIGIL_METRICS_MAX_LABEL_VALUES, VIGIL_METRICS_SERIES_TTL_SECONDS and
 * VIGIL_METRICS_SERIES_MIN_IDLE_SECONDS.
 */
@Injectable()
export class IngestedMetricsExposition implements OnModuleInit {
  readonly metrics: ReexposedMetrics;
  private readonly logger = new Logger(IngestedMetricsExposition.name);
  private failureLogged = false;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    vigilMetrics: VigilMetrics,
    clock: Clock,
    private readonly hooks: IngestHooks,
  ) {
    this.metrics = new ReexposedMetrics(vigilMetrics.registry, clock, config.metrics);
  }

  onModuleInit(): void {
    this.hooks.observeCommitted('metric', (items) => {
      try {
        this.metrics.observe(items);
      } catch (error) {
        // Observers must not fail ingest: the items are committed already. Logged once per process.
        if (!this.failureLogged) this.logger.error({ err: error }, 'Re-exposing ingested metrics failed; /metrics may miss some points');
        this.failureLogged = true;
      }
    });
  }
}
