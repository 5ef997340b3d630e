import type { Generated } from 'kysely';

/** One detected anomaly. `log_id` (the ingest-log entry of the point) makes the row idempotent. */
export interface AnomalyTable {
  id: Generated<number>;
  log_id: number;
  series_id: string;
  metric: string;
  /** JSON object of the series' tags. */
  tags: string;
  point_time: number;
  value: number;
  score: number;
  expected: number;
  severity: string;
  /** JSON array of method names. */
  methods: string;
  detected_at: number;
}

/**
 * One modelled series and its last snapshot: `state` (detector snapshot JSON, null for a
 * series that has not been snapshotted since it was created) and `counters` (report counters
 * JSON) both reflect exactly the ingest-log entries with id <= `snapshot_id`.
 */
export interface AnomalySeriesTable {
  series_id: string;
  source: string;
  metric: string;
  tags: string;
  snapshot_id: number;
  state: string | null;
  counters: string;
  updated_at: number;
}

/** Small named values of the anomalies module (e.g. points of series over the cap). */
export interface AnomalyStateTable {
  name: string;
  value: number;
}

export interface AnomalyTables {
  anomalies: AnomalyTable;
  anomaly_series: AnomalySeriesTable;
  anomaly_state: AnomalyStateTable;
}
