import { Module } from '@nestjs/common';
import { ConsumerLagMetrics } from './consumer-lag.metrics.js';
import { IngestedMetricsExposition } from './exposition/ingested-metrics.exposition.js';
import { MemoryMetrics } from './memory.metrics.js';
import { MetricsController } from './metrics.controller.js';

/** GET /metrics: the shared registry (VigilMetrics, provided by AppModule) plus re-exposed ingested metrics, consumer lag and the memory budget's parts. */
@Module({ controllers: [MetricsController], providers: [IngestedMetricsExposition, ConsumerLagMetrics, MemoryMetrics] })
export class MetricsModule {}
