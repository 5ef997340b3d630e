import { Inject, Injectable } from '@nestjs/common';
import type { AppConfig } from '../config/app.config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { AnomalyDetectionConsumer } from './anomaly-detection.consumer.js';
import { AnomalyStoreRepository, type AnomalyQuery } from './anomaly-store.repository.js';
import type { AnomaliesList, AnomalyReportBody, MetricReport } from './anomalies.results.js';
import { standardDeviation } from './series-counters.js';

@Injectable()
export class AnomaliesService {
  constructor(
    private readonly store: AnomalyStoreRepository,
    private readonly detection: AnomalyDetectionConsumer,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async list(query: AnomalyQuery): Promise<AnomaliesList> {
    const rows = await this.store.find(query);
    return {
      anomalies: rows.map((row) => ({
        id: row.id,
        metric: row.metric,
        tags: row.tags,
        timestamp: new Date(row.pointTime).toISOString(),
        value: row.value,
        score: row.score,
        expected: row.expected,
        severity: row.severity,
        methods: row.methods,
      })),
    };
  }

  /**
   * The report from the models in memory: exact for every point this replica's consumer has
   * applied (on a replica that does not currently run the consumer it lags until it does).
   */
  report(): AnomalyReportBody {
    const report = this.detection.report();
    const metrics: Record<string, MetricReport> = {};
    let dataPoints = 0;
    let processed = 0;
    let anomalies = 0;
    for (const name of [...report.metrics.keys()].sort()) {
      const counters = report.metrics.get(name)!;
      metrics[name] = {
        data_points: counters.modelled,
        points_processed: counters.processed,
        mean: counters.mean,
        std: standardDeviation(counters),
        min: counters.min ?? 0,
        max: counters.max ?? 0,
        anomalies: counters.anomalies,
      };
      dataPoints += counters.modelled;
      processed += counters.processed;
      anomalies += counters.anomalies;
    }
    return {
      metrics_monitored: report.metrics.size,
      series_monitored: report.series,
      total_data_points: dataPoints,
      total_points_processed: processed,
      models_trained: report.modelsTrained,
      anomalies_detected: anomalies,
      points_over_cap: report.pointsOverCap,
      series_over_cap: report.seriesOverCap,
      series_evicted: report.seriesEvicted,
      sensitivity: this.config.anomalies.sensitivity,
      muted_metrics: [...this.config.anomalies.mutedMetrics],
      metrics,
    };
  }
}
