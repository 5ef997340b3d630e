import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { TargetsFileError, loadTargetsFile, type TargetsFile } from '../sla/sla-target.js';
import { queueBoundVariable, settingsOf } from '../delivery/destination.plugin.js';
import { DESTINATION_NAMES, DESTINATION_PLUGINS } from '../delivery/destinations.list.js';
import { INTAKE_PLUGINS } from '../intakes/intakes.list.js';
import { EnvironmentVariables, queueBoundVariables } from './environment.variables.js';
import { booleanOf } from './variable.transforms.js';
import { DEFAULT_MEMORY_BUDGET_MEBIBYTES, defaultAnomalySeriesOf, memoryBudgetOf, parseMemoryBudget, type MemoryBudget } from './memory-budget.js';

export type QueueFullPolicy = 'block' | 'drop_oldest';
export type Sensitivity = 'low' | 'medium' | 'high';
/** The detector method (src/anomalies/detection/series-detector.ts, DetectorMethod). */
export type DetectorMethod = 'likelihood' | 'isolation_forest' | 'ensemble' | 'novelty';

export interface HttpProtectionsConfig {
  /** Node's headersTimeout: the request line and headers must arrive within it. */
  headersTimeoutMs: number;
  /** A body must arrive whole within this long of its headers. */
  bodyTimeoutMs: number;
  /** After a grace period, a body arriving slower than this on average is cut off (0: off). */
  bodyMinBytesPerSecond: number;
  /** Node's requestTimeout: the whole request must arrive within it. */
  requestTimeoutMs: number;
  /** Open connections from one client address (0: no cap). */
  maxConnectionsPerAddress: number;
  /** Body bytes held by all requests in flight together. */
  maxBodyBytesInFlight: number;
}

/** Typed configuration, parsed and validated once at startup. */
export interface AppConfig {
  /**
   * otlpPort: VIGIL_OTLP_PORT, a second listener on the same host, same routes.
   * corsOrigins: origins allowed on the browser SDKs' intake routes (`*` any; empty: no CORS answers).
   */
  http: { port: number; otlpPort?: number; host: string; maxBodyBytes: number; maxBatch: number; shutdownTimeoutMs: number; corsOrigins: string[] };
  /** Bounds on what one client can hold (src/common/http-protections.ts). */
  protections: HttpProtectionsConfig;
  auth: {
    ingestKeys: string[];
    readKeys: string[];
    adminKeys: string[];
    metricsKey?: string;
    /** No key configured: auth is off and the service binds to loopback only. */
    protectedMode: boolean;
  };
  rateLimit: { maxPerWindow: number; windowSeconds: number };
  /** `sqliteCacheBytes`: SQLite's page cache, the memory budget's share (unused on Postgres). */
  database: { url: string; dialect: 'sqlite' | 'postgres'; sqlitePath?: string; sqliteCacheBytes: number };
  logLevel: string;
  environment: string;
  retention: { ingestLogDays: number; analyticsDays: number };
  delivery: {
    /** By destination name: VIGIL_QUEUE_MAX_BYTES_<NAME>, else VIGIL_QUEUE_MAX_BYTES. */
    queueMaxBytes: Record<string, number>;
    queueFullPolicy: QueueFullPolicy;
    flushIntervalMs: number;
  };
  /** Settings of each configured destination plug-in by name (read with settingsOf, src/delivery/destination.plugin.ts). */
  destinations: Readonly<Record<string, unknown>>;
  /** Settings of each intake plug-in by name (read with intakeSettingsOf, src/intakes/intake.plugin.ts). */
  intakes: Readonly<Record<string, unknown>>;
  /**
   * The New Relic APM agent (not the New Relic destination): main.ts loads it,
   * before anything it instruments, when NEW_RELIC_LICENSE_KEY is set; it reads
   * its own NEW_RELIC_* variables (see prepareNewRelicAgentEnvironment).
   */
  newRelic: { licenseKey: string } | null;
  shipOwnLogs: boolean;
  /** `file`: VIGIL_SLA_TARGETS_FILE, read and validated with the variables. */
  sla: { targetsFile?: string; file?: TargetsFile };
  /** seriesIdleSeconds: in data time (see AnomalyDetectionConsumer), how idle a series must be to be evicted at maxSeries. */
  anomalies: { sensitivity: Sensitivity; method: DetectorMethod; mutedMetrics: string[]; maxSeries: number; seriesIdleSeconds: number };
  /** seriesMinIdleSeconds: clock time without a point before a series may be evicted at maxSeries (≤ seriesTtlSeconds). */
  metrics: { maxSeries: number; seriesTtlSeconds: number; seriesMinIdleSeconds: number; maxLabelValuesPerMetric: number };
  /** VIGIL_MEMORY_BUDGET_MB and the share of each part (src/config/memory-budget.ts). */
  memory: MemoryBudget;
}

/** Every secret the configuration holds, for log redaction and error-body scrubbing. */
export function secretsOf(config: AppConfig): string[] {
  return [
    ...config.auth.ingestKeys,
    ...config.auth.readKeys,
    ...config.auth.adminKeys,
    config.auth.metricsKey,
    ...DESTINATION_PLUGINS.flatMap((plugin) => {
      const settings = settingsOf(plugin, config);
      return settings === null ? [] : plugin.secrets(settings);
    }),
    ...INTAKE_PLUGINS.flatMap((plugin) => plugin.secrets?.(config.intakes[plugin.name]) ?? []),
  ].filter((secret): secret is string => typeof secret === 'string' && secret.length > 0);
}

export class ConfigurationError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigurationError';
  }
}

const MIB = 1024 * 1024;

/** One line per bad variable: its first failed rule. */
const VALIDATION = { forbidUnknownValues: false, stopAtFirstError: true };

function keyList(raw: string | undefined): string[] {
  return (raw ?? '').split(',').map((key) => key.trim()).filter((key) => key.length > 0);
}

function flatten(errors: ValidationError[]): string[] {
  return errors.flatMap((error) => Object.values(error.constraints ?? {}));
}

/**
 * Parses the environment into an AppConfig or throws one ConfigurationError that
 * lists every bad variable. Values are never echoed, since several are secrets.
 */
export function loadConfig(environment: Record<string, string | undefined>): AppConfig {
  const present = Object.fromEntries(
    Object.entries(environment).filter(([, value]) => value !== undefined && value !== ''),
  );
  const env = plainToInstance(EnvironmentVariables, present);
  const problems = flatten(validateSync(env, VALIDATION));
  const queueBounds = plainToInstance(queueBoundVariables(DESTINATION_NAMES, queueBoundVariable), present);
  problems.push(...flatten(validateSync(queueBounds, VALIDATION)));
  // Each destination plug-in's own variables, listed with the others.
  const destinations: Record<string, unknown> = {};
  for (const plugin of DESTINATION_PLUGINS) {
    const variables = plainToInstance(plugin.variables, present);
    problems.push(...flatten(validateSync(variables, VALIDATION)));
    const settings = plugin.settings(variables, problems);
    if (settings !== null) destinations[plugin.name] = settings;
  }
  // Each intake plug-in's own variables, likewise.
  const intakes: Record<string, unknown> = {};
  for (const plugin of INTAKE_PLUGINS) {
    const variables = plainToInstance(plugin.variables, present);
    problems.push(...flatten(validateSync(variables, VALIDATION)));
    intakes[plugin.name] = plugin.settings(variables, problems);
  }

  const ingestKeys = keyList(env.VIGIL_INGEST_KEYS);
  const readKeys = keyList(env.VIGIL_READ_KEYS);
  const adminKeys = keyList(env.VIGIL_ADMIN_KEYS);
  const protectedMode = ingestKeys.length + readKeys.length + adminKeys.length === 0;

  const databaseUrl = env.DATABASE_URL ?? 'sqlite:./data/vigil.db';
  const dialect = databaseUrl.startsWith('sqlite:') ? 'sqlite' : 'postgres';

  // The targets file is configuration too: its problems are listed with the variables'.
  let targetsFile: TargetsFile | undefined;
  if (env.VIGIL_SLA_TARGETS_FILE) {
    try {
      targetsFile = loadTargetsFile(env.VIGIL_SLA_TARGETS_FILE);
    } catch (error) {
      if (!(error instanceof TargetsFileError)) throw error;
      problems.push(...error.problems.map((problem) => `VIGIL_SLA_TARGETS_FILE ${env.VIGIL_SLA_TARGETS_FILE}: ${problem}`));
    }
  }

  const parsedBudget = parseMemoryBudget(env.VIGIL_MEMORY_BUDGET_MB);
  if ('problem' in parsedBudget) problems.push(parsedBudget.problem);
  const memory = memoryBudgetOf('mebibytes' in parsedBudget ? parsedBudget.mebibytes : DEFAULT_MEMORY_BUDGET_MEBIBYTES);
  const anomalyMethod = (env.VIGIL_ANOMALY_METHOD as DetectorMethod | undefined) ?? 'novelty';
  if ((env.VIGIL_MAX_BODY_BYTES_IN_FLIGHT ?? memory.bodyBytesInFlight) < (env.VIGIL_MAX_BODY_BYTES ?? 5 * MIB)) {
    problems.push('VIGIL_MAX_BODY_BYTES_IN_FLIGHT must not be less than VIGIL_MAX_BODY_BYTES (one largest body must fit)');
  }
  // Node refuses a headers timeout longer than the request timeout.
  if ((env.VIGIL_HEADERS_TIMEOUT_MS ?? 10_000) > (env.VIGIL_REQUEST_TIMEOUT_MS ?? 60_000)) {
    problems.push('VIGIL_HEADERS_TIMEOUT_MS must not be greater than VIGIL_REQUEST_TIMEOUT_MS');
  }
  // An eviction must not wait for longer than the TTL, which frees the series anyway.
  if ((env.VIGIL_METRICS_SERIES_MIN_IDLE_SECONDS ?? 0) > (env.VIGIL_METRICS_SERIES_TTL_SECONDS ?? 600)) {
    problems.push('VIGIL_METRICS_SERIES_MIN_IDLE_SECONDS must not be greater than VIGIL_METRICS_SERIES_TTL_SECONDS');
  }
  if (problems.length > 0) throw new ConfigurationError(problems);

  const queueDefault = env.VIGIL_QUEUE_MAX_BYTES ?? 256 * MIB;

  return {
    http: {
      port: env.PORT ?? 8080,
      ...(env.VIGIL_OTLP_PORT === undefined ? {} : { otlpPort: env.VIGIL_OTLP_PORT }),
      host: env.HOST ?? (protectedMode ? '127.0.0.1' : '0.0.0.0'),
      maxBodyBytes: env.VIGIL_MAX_BODY_BYTES ?? 5 * MIB,
      maxBatch: env.VIGIL_MAX_BATCH ?? 10_000,
      shutdownTimeoutMs: env.VIGIL_SHUTDOWN_TIMEOUT_MS ?? 10_000,
      corsOrigins: keyList(env.VIGIL_CORS_ORIGINS),
    },
    protections: {
      headersTimeoutMs: env.VIGIL_HEADERS_TIMEOUT_MS ?? 10_000,
      bodyTimeoutMs: env.VIGIL_BODY_TIMEOUT_MS ?? 30_000,
      bodyMinBytesPerSecond: env.VIGIL_BODY_MIN_BYTES_PER_SECOND ?? 1024,
      requestTimeoutMs: env.VIGIL_REQUEST_TIMEOUT_MS ?? 60_000,
      maxConnectionsPerAddress: env.VIGIL_MAX_CONNECTIONS_PER_ADDRESS ?? 256,
      maxBodyBytesInFlight: env.VIGIL_MAX_BODY_BYTES_IN_FLIGHT ?? memory.bodyBytesInFlight,
    },
    auth: { ingestKeys, readKeys, adminKeys, metricsKey: env.VIGIL_METRICS_KEY || undefined, protectedMode },
    rateLimit: { maxPerWindow: env.VIGIL_RATE_LIMIT_MAX ?? 0, windowSeconds: env.VIGIL_RATE_LIMIT_WINDOW_SECONDS ?? 60 },
    database: {
      url: databaseUrl,
      dialect,
      sqlitePath: dialect === 'sqlite' ? databaseUrl.slice('sqlite:'.length) : undefined,
      sqliteCacheBytes: memory.sqlitePageCacheBytes,
    },
    logLevel: env.LOG_LEVEL ?? 'info',
    environment: env.ENVIRONMENT ?? 'production',
    retention: { ingestLogDays: env.VIGIL_RETENTION_DAYS ?? 7, analyticsDays: env.VIGIL_ANALYTICS_RETENTION_DAYS ?? 395 },
    delivery: {
      queueMaxBytes: Object.fromEntries(DESTINATION_NAMES.map((name) => [name, queueBounds[queueBoundVariable(name)] ?? queueDefault])),
      queueFullPolicy: (env.VIGIL_QUEUE_FULL_POLICY as QueueFullPolicy | undefined) ?? 'block',
      flushIntervalMs: env.VIGIL_DELIVERY_FLUSH_INTERVAL_MS ?? 1000,
    },
    destinations,
    intakes,
    newRelic: typeof present['NEW_RELIC_LICENSE_KEY'] === 'string' ? { licenseKey: present['NEW_RELIC_LICENSE_KEY'] } : null,
    shipOwnLogs: booleanOf(env.VIGIL_SHIP_OWN_LOGS, false),
    sla: { targetsFile: env.VIGIL_SLA_TARGETS_FILE, file: targetsFile },
    anomalies: {
      sensitivity: (env.VIGIL_ANOMALY_SENSITIVITY as Sensitivity | undefined) ?? 'medium',
      method: anomalyMethod,
      mutedMetrics: keyList(env.VIGIL_ANOMALY_MUTE),
      // Unset: as many series as the detection worker's share of the memory budget holds.
      maxSeries: env.VIGIL_ANOMALY_MAX_SERIES ?? defaultAnomalySeriesOf(memory, anomalyMethod),
      seriesIdleSeconds: env.VIGIL_ANOMALY_SERIES_IDLE_SECONDS ?? 3600,
    },
    metrics: {
      maxSeries: env.VIGIL_METRICS_MAX_SERIES ?? 10_000,
      seriesTtlSeconds: env.VIGIL_METRICS_SERIES_TTL_SECONDS ?? 600,
      // Unset: 60 s, or the TTL when that is shorter.
      seriesMinIdleSeconds: env.VIGIL_METRICS_SERIES_MIN_IDLE_SECONDS ?? Math.min(60, env.VIGIL_METRICS_SERIES_TTL_SECONDS ?? 600),
      maxLabelValuesPerMetric: env.VIGIL_METRICS_MAX_LABEL_VALUES ?? 1_000,
    },
    memory,
  };
}
