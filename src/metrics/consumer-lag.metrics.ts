import { Injectable } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { Clock } from '../common/clock.js';
import { DerivedStateRunner } from '../ingest-log/log-consumers.js';
import { VigilMetrics } from '../common/vigil.metrics.js';

/**
 * How far each derived-state consumer (SLA rollups, anomaly detection, analytics)
 * trails ingest. Ingest never waits for them: under a burst they fall behind and
 * catch up afterwards, and this gauge is where an operator sees it. Read from the
 * store on each scrape (one indexed lookup per consumer); while the store cannot
 * answer the gauge has no series, and /health/ready reports the store.
 */
@Injectable()
export class ConsumerLagMetrics {
  constructor(metrics: VigilMetrics, runner: DerivedStateRunner, clock: Clock) {
    const gauge: Gauge<'consumer'> = new Gauge({
      name: 'vigil_consumer_lag_seconds',
      help: 'Seconds since receipt of the oldest ingested item a derived-state consumer (sla, anomalies, analytics) has not applied yet; 0 when caught up',
      labelNames: ['consumer'] as const,
      registers: [metrics.registry],
      async collect() {
        gauge.reset();
        let lag: Map<string, number>;
        try {
          lag = await runner.lagSeconds(clock.now());
        } catch {
          return;
        }
        for (const [consumer, seconds] of lag) gauge.set({ consumer }, seconds);
      },
    });
  }
}
