import { Global, Module } from '@nestjs/common';
import { MetricsController } from './metrics.controller.js';
import { VigilMetrics } from './vigil.metrics.js';

@Global()
@Module({ controllers: [MetricsController], providers: [VigilMetrics], exports: [VigilMetrics] })
export class MetricsModule {}
