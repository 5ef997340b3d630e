import { Injectable } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { VigilMetrics } from '../common/vigil.metrics.js';

/** Metric names with their own label value on vigil_anomalies_detected_total; later ones share OVERFLOW_METRIC. */
export const MAX_LABELLED_METRICS = 200;
export const OVERFLOW_METRIC = '_other';

/** What the gauges read on each scrape. */
export interface AnomalyGaugeSource {
  modelledSeries(): number;
  seriesOverCap(): number;
  pointsOverCap(): number;
}

/**
 * Prometheus metrics of the anomalies module. The detection counter counts the anomalies this
 * replica stored (Prometheus semantics: sum over replicas); its metric label is bounded.
 */
@Injectable()
export class AnomaliesMetrics {
  private readonly detected: Counter<'metric'>;
  readonly seriesEvicted: Counter;
  private readonly labelled = new Set<string>();

  constructor(private readonly metrics: VigilMetrics) {
    const registers = [metrics.registry];
    this.detected = new Counter({
      name: 'vigil_anomalies_detected_total',
      help: `Anomalies detected and stored, by metric name (at most ${MAX_LABELLED_METRICS} names, then "${OVERFLOW_METRIC}")`,
      labelNames: ['metric'],
      registers,
    });
    this.seriesEvicted = new Counter({
      name: 'vigil_anomaly_series_evicted_total',
      help: 'Series whose model was dropped at VIGIL_ANOMALY_MAX_SERIES for a new series (idle VIGIL_ANOMALY_SERIES_IDLE_SECONDS in data time), by batches this replica committed',
      registers,
    });
  }

  countDetected(metric: string): void {
    if (!this.labelled.has(metric) && this.labelled.size < MAX_LABELLED_METRICS) this.labelled.add(metric);
    this.detected.inc({ metric: this.labelled.has(metric) ? metric : OVERFLOW_METRIC });
  }

  registerGauges(source: AnomalyGaugeSource): void {
    const registers = [this.metrics.registry];
    const gauge = (name: string, help: string, read: () => number) => {
      const created: Gauge = new Gauge({
        name,
        help,
        registers,
        collect() {
          created.set(read());
        },
      });
    };
    gauge('vigil_anomaly_series', 'Series with an anomaly model (metric series and per-service request latency)', () => source.modelledSeries());
    gauge(
      'vigil_anomaly_series_over_cap',
      'Distinct series refused a model because VIGIL_ANOMALY_MAX_SERIES was reached and no series was idle enough to evict (seen by this process since it started)',
      () => source.seriesOverCap(),
    );
    gauge('vigil_anomaly_points_over_cap', 'Points of series over the cap (counted, not modelled), in total', () => source.pointsOverCap());
  }
}
