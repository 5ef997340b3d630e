import { ApiProperty } from '@nestjs/swagger';

/** Response shapes of /anomalies (classes for the OpenAPI document; the service returns plain objects). */

export class AnomalyBody {
  @ApiProperty({ description: 'Row id' }) id!: number;
  @ApiProperty({ example: 'api.response_time', description: `Metric name; a service's request latency is "request.duration_ms" tagged service=<name>` })
  metric!: string;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, example: { endpoint: '/users' }, description: 'Tags of the series' })
  tags!: Record<string, string>;
  @ApiProperty({ example: '2026-01-01T12:00:00.000Z', description: "The point's own time, ISO 8601 UTC" }) timestamp!: string;
  @ApiProperty({ description: 'Value of the point' }) value!: number;
  @ApiProperty({ description: 'Anomaly score 0..1: -log10(anomaly likelihood) / 6, capped at 1 (0.5 = the medium threshold)' }) score!: number;
  @ApiProperty({ description: 'Value the baseline expected at this point' }) expected!: number;
  @ApiProperty({ enum: ['low', 'medium', 'high', 'critical'] }) severity!: string;
  @ApiProperty({ type: [String], example: ['robust_zscore', 'likelihood'], description: 'robust_zscore | seasonal | likelihood' })
  methods!: string[];
}

export class AnomaliesList {
  @ApiProperty({ type: [AnomalyBody], description: 'Newest point first' }) anomalies!: AnomalyBody[];
}

export class MetricReport {
  @ApiProperty({ description: 'Points the models learnt from: every point except those older than their series\u2019 previous point' })
  data_points!: number;
  @ApiProperty({ description: 'Every point of this metric the detector has seen (late ones included)' }) points_processed!: number;
  @ApiProperty({ description: 'Mean of every processed point' }) mean!: number;
  @ApiProperty({ description: 'Population standard deviation of every processed point' }) std!: number;
  @ApiProperty() min!: number;
  @ApiProperty() max!: number;
  @ApiProperty({ description: 'Anomalies detected (muted metrics: always 0)' }) anomalies!: number;
}

export class AnomalyReportBody {
  @ApiProperty({ description: 'Metric names with at least one modelled series' }) metrics_monitored!: number;
  @ApiProperty({ description: 'Modelled series (metric name + tags, and one per service for request latency)' }) series_monitored!: number;
  @ApiProperty({ description: 'Sum of data_points over every metric' }) total_data_points!: number;
  @ApiProperty({ description: 'Sum of points_processed over every metric' }) total_points_processed!: number;
  @ApiProperty({ description: 'Series whose detector is past its warm-up (150 points)' }) models_trained!: number;
  @ApiProperty({ description: 'Sum of anomalies over every metric' }) anomalies_detected!: number;
  @ApiProperty({
    description: 'Points of series refused a model because VIGIL_ANOMALY_MAX_SERIES was reached and no series was idle enough to evict (counted, not modelled)',
  })
  points_over_cap!: number;
  @ApiProperty({ description: 'Distinct series refused a model since this process started (remembered up to 100,000)' }) series_over_cap!: number;
  @ApiProperty({
    description:
      'Series whose model was dropped, since the store began, to make room at VIGIL_ANOMALY_MAX_SERIES for a new series: the series touched ' +
      'least recently, once its newest point was VIGIL_ANOMALY_SERIES_IDLE_SECONDS older than the newest point of any series (data time)',
  })
  series_evicted!: number;
  @ApiProperty({ enum: ['low', 'medium', 'high'] }) sensitivity!: string;
  @ApiProperty({ type: [String], description: 'Metric names whose points are counted but never raise anomalies' }) muted_metrics!: string[];
  @ApiProperty({ type: 'object', additionalProperties: { $ref: '#/components/schemas/MetricReport' }, description: 'By metric name, summed over its series' })
  metrics!: Record<string, MetricReport>;
}
