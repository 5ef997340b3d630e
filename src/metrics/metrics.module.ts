import { Global, Module } from '@nestjs/common';
import { ConsumerLagMetrics } from './consumer-lag.metrics.js';
import { IngestedMetricsExposition } from './exposition/ingested-metrics.exposition.js';
import { MetricsController } from './metrics.controller.js';
import { VigilMetrics } from './vigil.metrics.js';

@Global()
@Module({ controllers: [MetricsController], providers: [VigilMetrics, IngestedMetricsExposition, ConsumerLagMetrics], exports: [VigilMetrics] })
export class MetricsModule {}
