import { Injectable } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { VigilMetrics } from '../../common/vigil.metrics.js';

/** The OTLP intake's own metrics, on the process registry. */
@Injectable()
export class OtlpMetrics {
  /** Spans received, by kind: SERVER and CONSUMER ones become requests, the rest are only counted here. */
  readonly spans: Counter<'kind'>;
  /** Cumulative-sum points that added nothing or were refused, by reason. */
  readonly cumulativePoints: Counter<'outcome'>;
  readonly cumulativeSeries: Gauge;
  readonly cumulativeSeriesForgotten: Counter;

  constructor(metrics: VigilMetrics) {
    const registers = [metrics.registry];
    this.spans = new Counter({ name: 'vigil_otlp_spans_total', help: 'Spans received over OTLP, by span kind (server and consumer spans become requests)', labelNames: ['kind'] as const, registers });
    this.cumulativePoints = new Counter({
      name: 'vigil_otlp_cumulative_points_total',
      help: 'Points of monotonic cumulative sums received over OTLP, by outcome: counted, repeat, older_run, baseline (first point of a series that may have been counted before), refused (series limit)',
      labelNames: ['outcome'] as const,
      registers,
    });
    this.cumulativeSeries = new Gauge({ name: 'vigil_otlp_cumulative_series', help: 'Cumulative-sum series whose last point is tracked', registers });
    this.cumulativeSeriesForgotten = new Counter({ name: 'vigil_otlp_cumulative_series_forgotten_total', help: 'Cumulative-sum series forgotten after being idle', registers });
  }
}
