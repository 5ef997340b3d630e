import { Transform } from 'class-transformer';
import {
  IsBooleanString,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
} from 'class-validator';
import { toInt } from './variable.transforms.js';

/**
 * The raw environment as the service reads it: Vigil's own variables of the
 * contract (../shared/spec/api.md) and its tuning knobs. Values arrive as
 * strings; numeric ones are converted before validation (variable.transforms.ts).
 *
 * With the destination plug-ins' own classes (each `*.plugin.ts`, listed in
 * src/delivery/destinations.list.ts) and queueBoundVariables below, this is the
 * only place that names an environment variable.
 */
export class EnvironmentVariables {
  @IsOptional() @Transform(toInt) @IsInt() @Min(0) @Max(65535)
  PORT?: number;

  /** A second listener serving the same routes (OTLP/HTTP's conventional port is 4318); unset: none. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(65535)
  VIGIL_OTLP_PORT?: number;

  @IsOptional() @IsString() @IsNotEmpty()
  HOST?: string;

  @IsOptional() @Matches(/^(sqlite:.+|postgres(ql)?:\/\/.+)$/, {
    message: 'DATABASE_URL must be sqlite:<path> or postgres://user:pass@host:port/db',
  })
  DATABASE_URL?: string;

  @IsOptional() @IsString() VIGIL_INGEST_KEYS?: string;
  @IsOptional() @IsString() VIGIL_READ_KEYS?: string;
  @IsOptional() @IsString() VIGIL_ADMIN_KEYS?: string;
  @IsOptional() @IsString() VIGIL_METRICS_KEY?: string;

  @IsOptional() @Transform(toInt) @IsInt() @Min(1024) @Max(1024 * 1024 * 1024)
  VIGIL_MAX_BODY_BYTES?: number;

  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(1_000_000)
  VIGIL_MAX_BATCH?: number;

  @IsOptional() @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL?: string;

  @IsOptional() @IsString() @IsNotEmpty()
  ENVIRONMENT?: string;

  /** Per-key request limit per window; 0 turns rate limiting off. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(0)
  VIGIL_RATE_LIMIT_MAX?: number;

  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(86400)
  VIGIL_RATE_LIMIT_WINDOW_SECONDS?: number;

  /** Age after which raw ingest-log rows that every consumer has passed are deleted. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(3650)
  VIGIL_RETENTION_DAYS?: number;

  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(3650)
  VIGIL_ANALYTICS_RETENTION_DAYS?: number;

  @IsOptional() @Transform(toInt) @IsInt() @Min(1000) @Max(600_000)
  VIGIL_SHUTDOWN_TIMEOUT_MS?: number;

  /** Origins (comma-separated, or `*`) whose browsers may send to the browser SDKs' intakes (Segment, PostHog). */
  @IsOptional() @IsString() VIGIL_CORS_ORIGINS?: string;

  // Protections against slow or hostile clients (README, "Limits and protections")
  @IsOptional() @Transform(toInt) @IsInt() @Min(1000) @Max(600_000)
  VIGIL_HEADERS_TIMEOUT_MS?: number;
  @IsOptional() @Transform(toInt) @IsInt() @Min(1000) @Max(3_600_000)
  VIGIL_BODY_TIMEOUT_MS?: number;
  /** 0 turns the minimum transfer rate off. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(0)
  VIGIL_BODY_MIN_BYTES_PER_SECOND?: number;
  @IsOptional() @Transform(toInt) @IsInt() @Min(1000) @Max(3_600_000)
  VIGIL_REQUEST_TIMEOUT_MS?: number;
  /** 0 turns the per-address connection cap off (behind a proxy every client shares its address). */
  @IsOptional() @Transform(toInt) @IsInt() @Min(0)
  VIGIL_MAX_CONNECTIONS_PER_ADDRESS?: number;
  /** Unset: the memory budget's share for request bodies (src/config/memory-budget.ts). */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1024)
  VIGIL_MAX_BODY_BYTES_IN_FLIGHT?: number;

  /**
   * MiB the whole process should stay under; every growing part takes a share of it
   * (src/config/memory-budget.ts, which parses and checks it with parseMemoryBudget).
   */
  @IsOptional() @IsString() VIGIL_MEMORY_BUDGET_MB?: string;

  // Delivery queues
  @IsOptional() @Transform(toInt) @IsInt() @Min(1024)
  VIGIL_QUEUE_MAX_BYTES?: number;
  @IsOptional() @IsIn(['block', 'drop_oldest'])
  VIGIL_QUEUE_FULL_POLICY?: string;
  @IsOptional() @Transform(toInt) @IsInt() @Min(10) @Max(600_000)
  VIGIL_DELIVERY_FLUSH_INTERVAL_MS?: number;

  @IsOptional() @IsBooleanString() VIGIL_SHIP_OWN_LOGS?: string;

  // SLA
  @IsOptional() @IsString() @IsNotEmpty() VIGIL_SLA_TARGETS_FILE?: string;

  // Anomalies
  @IsOptional() @IsIn(['low', 'medium', 'high']) VIGIL_ANOMALY_SENSITIVITY?: string;
  @IsOptional() @IsIn(['likelihood', 'isolation_forest', 'ensemble', 'novelty']) VIGIL_ANOMALY_METHOD?: string;
  @IsOptional() @IsString() VIGIL_ANOMALY_MUTE?: string;
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) VIGIL_ANOMALY_MAX_SERIES?: number;
  /** At the cap, a series idle this long in data time (point timestamps) may be evicted for a new one; 0: any series. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(0) @Max(3_153_600_000) VIGIL_ANOMALY_SERIES_IDLE_SECONDS?: number;

  // Prometheus re-exposition of ingested metrics
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) VIGIL_METRICS_MAX_SERIES?: number;
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) VIGIL_METRICS_SERIES_TTL_SECONDS?: number;
  /** At the cap, a series without a point for this long may be evicted for a new one; at most the TTL. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(0) VIGIL_METRICS_SERIES_MIN_IDLE_SECONDS?: number;
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) VIGIL_METRICS_MAX_LABEL_VALUES?: number;
}

/**
 * The class of the per-destination queue bounds, VIGIL_QUEUE_MAX_BYTES_<NAME>
 * for each destination plug-in (`variable(name)` spells it), each validated as
 * VIGIL_QUEUE_MAX_BYTES is.
 */
export function queueBoundVariables(names: readonly string[], variable: (name: string) => string): new () => Record<string, number | undefined> {
  class QueueBoundVariables {}
  for (const name of names) {
    // The order TypeScript applies `@IsOptional() @Transform(toInt) @IsInt() @Min(1024)` in.
    for (const decorate of [Min(1024), IsInt(), Transform(toInt), IsOptional()]) decorate(QueueBoundVariables.prototype, variable(name));
  }
  return QueueBoundVariables as new () => Record<string, number | undefined>;
}
