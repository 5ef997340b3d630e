/** Granularity of a rollup row; coarser rows are sums of the finer ones, kept so long windows merge few rows. */
export type RollupResolution = 'minute' | 'hour' | 'day';

/**
 * Requests of one service in one bucket (by each record's own timestamp):
 * counts plus the encoded latency sketch (see latency-sketch.ts). Written only by
 * the SLA consumer's transaction and by the flush of Vigil's own requests.
 */
export interface SlaRollupTable {
  resolution: RollupResolution;
  bucket_start: number;
  service: string;
  total: number;
  failed: number;
  /** Earliest record timestamp in the bucket (for uptime_hours). */
  first_event_at: number;
  sketch: Buffer;
  /**
   * The requests' durations (float64, little-endian) while the bucket holds at most
   * EXACT_SAMPLES_MAX of them, else null; null too in rows written before migration
   * 0007. Trusted only when their number equals `total` (see decodeExact).
   */
  exact_ms: Buffer | null;
  updated_at: number;
  /** Random tag that changes on every write: replicas' sketch caches compare it (see SketchCache). */
  revision: number;
}

/** Targets set through the API; `deleted` = 1 hides a default or file target. */
export interface SlaTargetTable {
  service: string;
  name: string;
  p95_ms: number;
  p99_ms: number;
  availability_percent: number;
  error_rate_percent: number;
  window: string;
  deleted: number;
  updated_at: number;
}

/** Last announced state per service, so a restart does not announce a transition again. */
export interface SlaStateTable {
  service: string;
  state: 'meeting' | 'violated';
  changed_at: number;
}

/** Kysely table types owned by the sla module (filled in by its migration). */
export interface SlaTables {
  sla_rollups: SlaRollupTable;
  sla_targets: SlaTargetTable;
  sla_states: SlaStateTable;
}
