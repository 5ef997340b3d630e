import { Module } from '@nestjs/common';
import { ConsumerLagMetrics } from './consumer-lag.metrics.js';
import { IngestedMetricsExposition } from './exposition/ingested-metrics.exposition.js';
import { MetricsController } from './metrics.controller.js';

/** GET /metrics: the shared registry (VigilMetrics, provided by AppModule) plus re-exposed ingested metrics and consumer lag. */
@Module({ controllers: [MetricsController], providers: [IngestedMetricsExposition, ConsumerLagMetrics] })
export class MetricsModule {}
