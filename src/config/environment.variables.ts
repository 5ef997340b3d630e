import { Transform } from 'class-transformer';
import {
  IsBooleanString,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  Min,
  ValidateIf,
} from 'class-validator';

/**
 * The raw environment as the service reads it: every variable of the contract
 * (../shared/spec/api.md) and Vigil's own tuning knobs. Values arrive as strings;
 * numeric ones are converted before validation so a message can say "PORT must
 * not be greater than 65535" rather than "must be a number string".
 *
 * This class is the only place that names an environment variable.
 */
const toInt = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : value;

const URL_OPTIONS = { require_tld: false, require_protocol: true, protocols: ['http', 'https'] };

export class EnvironmentVariables {
  @IsOptional() @Transform(toInt) @IsInt() @Min(0) @Max(65535)
  PORT?: number;

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
  @IsOptional() @Transform(toInt) @IsInt() @Min(1024)
  VIGIL_MAX_BODY_BYTES_IN_FLIGHT?: number;

  // Delivery queues
  @IsOptional() @Transform(toInt) @IsInt() @Min(1024)
  VIGIL_QUEUE_MAX_BYTES?: number;
  @IsOptional() @Transform(toInt) @IsInt() @Min(1024)
  VIGIL_QUEUE_MAX_BYTES_DATADOG?: number;
  @IsOptional() @Transform(toInt) @IsInt() @Min(1024)
  VIGIL_QUEUE_MAX_BYTES_NEWRELIC?: number;
  @IsOptional() @Transform(toInt) @IsInt() @Min(1024)
  VIGIL_QUEUE_MAX_BYTES_ELASTICSEARCH?: number;
  @IsOptional() @Transform(toInt) @IsInt() @Min(1024)
  VIGIL_QUEUE_MAX_BYTES_SPLUNK?: number;
  @IsOptional() @IsIn(['block', 'drop_oldest'])
  VIGIL_QUEUE_FULL_POLICY?: string;
  @IsOptional() @Transform(toInt) @IsInt() @Min(10) @Max(600_000)
  VIGIL_DELIVERY_FLUSH_INTERVAL_MS?: number;

  // Datadog
  @IsOptional() @IsString() DATADOG_API_KEY?: string;
  @IsOptional() @IsString() DATADOG_APP_KEY?: string;
  @IsOptional() @Matches(/^[a-z0-9.-]+\.[a-z]{2,}$/, { message: 'DATADOG_SITE must be a host name such as datadoghq.com or datadoghq.eu' })
  DATADOG_SITE?: string;
  @IsOptional() @IsUrl(URL_OPTIONS) DATADOG_API_URL?: string;

  // New Relic
  @IsOptional() @IsString() NEW_RELIC_LICENSE_KEY?: string;
  @IsOptional() @Matches(/^\d+$/, { message: 'NEW_RELIC_ACCOUNT_ID must be a number' }) NEW_RELIC_ACCOUNT_ID?: string;
  @IsOptional() @IsIn(['us', 'eu']) NEW_RELIC_REGION?: string;
  @IsOptional() @IsUrl(URL_OPTIONS) NEW_RELIC_METRIC_API_URL?: string;
  @IsOptional() @IsUrl(URL_OPTIONS) NEW_RELIC_EVENT_API_URL?: string;

  // Elasticsearch
  @IsOptional() @IsUrl(URL_OPTIONS) ELASTICSEARCH_URL?: string;
  @IsOptional() @IsString() @IsNotEmpty() ELASTICSEARCH_HOST?: string;
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(65535) ELASTICSEARCH_PORT?: number;
  @IsOptional() @IsString() ELASTICSEARCH_API_KEY?: string;
  @IsOptional() @IsString() ELASTICSEARCH_USERNAME?: string;
  @ValidateIf((env: EnvironmentVariables) => env.ELASTICSEARCH_USERNAME !== undefined)
  @IsString({ message: 'ELASTICSEARCH_PASSWORD must be set when ELASTICSEARCH_USERNAME is' })
  ELASTICSEARCH_PASSWORD?: string;
  @IsOptional() @Matches(/^[a-z0-9][a-z0-9._-]*$/, { message: 'ELASTICSEARCH_INDEX_PREFIX must be a lowercase index name' })
  ELASTICSEARCH_INDEX_PREFIX?: string;

  // Splunk HEC
  @IsOptional() @IsUrl(URL_OPTIONS) SPLUNK_HEC_URL?: string;
  @IsOptional() @IsString() @IsNotEmpty() SPLUNK_HOST?: string;
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(65535) SPLUNK_PORT?: number;
  @IsOptional() @IsString() SPLUNK_HEC_TOKEN?: string;
  @IsOptional() @IsString() SPLUNK_INDEX?: string;
  @IsOptional() @IsBooleanString() SPLUNK_TLS_VERIFY?: string;
  @IsOptional() @IsString() @IsNotEmpty() SPLUNK_CA_FILE?: string;

  @IsOptional() @IsBooleanString() VIGIL_SHIP_OWN_LOGS?: string;

  // SLA
  @IsOptional() @IsString() @IsNotEmpty() VIGIL_SLA_TARGETS_FILE?: string;

  // Anomalies
  @IsOptional() @IsIn(['low', 'medium', 'high']) VIGIL_ANOMALY_SENSITIVITY?: string;
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
