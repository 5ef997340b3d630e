import type { MetricType } from '../../ingest-log/ingest-log.items.js';

/**
 * How an ingested metric is named on /metrics (the statsd_exporter mapping, with a prefix).
 *
 * - Prefix: every re-exposed metric is `vigil_app_<name>`. The contract says /metrics names are `vigil_*`, and the
 *   prefix keeps posted metrics apart from Vigil's own (`vigil_http_*`, `vigil_sla_*`, …): no posted name can shadow one.
 * - Name: every character outside `[A-Za-z0-9_]` becomes `_` (`.`, `-` and `:`; colons are left to recording rules),
 *   case is kept: `api.response_time` → `vigil_app_api_response_time`, `cache.hits` (count) → `vigil_app_cache_hits_total`.
 * - Unit (the item's optional `unit`, case-insensitive) converts values to base units and appends the base-unit suffix:
 *   time (`ns`, `us`/`µs`, `ms`, `s`, `min`, `h` and their long forms) → seconds, `_seconds`;
 *   bytes (`B`/`By`/`byte(s)`, `kB`/`KB`/`MB`/`GB`, `KiB`/`MiB`/`GiB`) → bytes, `_bytes`; `%`/`percent` → ratio, `_ratio`.
 *   So `api.response_time` with `unit: "ms"` and value 250 is `vigil_app_api_response_time_seconds` 0.25. A trailing name
 *   token that repeats the unit is dropped first (`db.query_ms` in ms → `vigil_app_db_query_seconds`). Any other unit
 *   (or none) leaves values and the name as they are; the unit is then only named in HELP.
 * - Type: gauge → gauge (the point with the latest timestamp wins), count → counter with `_total` (values added;
 *   negative counts are dropped), distribution → histogram with buckets chosen by the unit (below).
 * - Tags → labels: names sanitised like metric names; a name that would start with a digit gets a leading `_`;
 *   names Prometheus reserves or attaches itself (`__*`, `le`, `quantile`, `job`, `instance`) get a `tag_` prefix
 *   (`le` → `tag_le`, `__name__` → `tag_name__`). Two tags that sanitise to the same label: the one whose original
 *   name sorts first is kept.
 */
export const REEXPOSED_PREFIX = 'vigil_app_';

export type UnitClass = 'seconds' | 'bytes' | 'ratio' | 'none';

export interface UnitConversion {
  unitClass: UnitClass;
  /** Multiplier from the posted unit to the base unit. */
  factor: number;
  /** The unit as posted (lower-cased), or '' when none was given. */
  source: string;
}

const TIME_UNITS: Record<string, number> = {
  ns: 1e-9, nanosecond: 1e-9, nanoseconds: 1e-9,
  us: 1e-6, 'µs': 1e-6, microsecond: 1e-6, microseconds: 1e-6,
  ms: 1e-3, millisecond: 1e-3, milliseconds: 1e-3,
  s: 1, sec: 1, secs: 1, second: 1, seconds: 1,
  min: 60, mins: 60, minute: 60, minutes: 60,
  h: 3600, hr: 3600, hour: 3600, hours: 3600,
};
const BYTE_UNITS: Record<string, number> = {
  b: 1, by: 1, byte: 1, bytes: 1,
  kb: 1e3, mb: 1e6, gb: 1e9,
  kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3,
};
const RATIO_UNITS: Record<string, number> = { '%': 0.01, percent: 0.01 };

const SUFFIX: Record<UnitClass, string> = { seconds: '_seconds', bytes: '_bytes', ratio: '_ratio', none: '' };
/** Name endings that repeat the unit and are replaced by the base-unit suffix. */
const REDUNDANT_ENDINGS: Record<Exclude<UnitClass, 'none'>, RegExp> = {
  seconds: /_(ns|nanoseconds?|us|microseconds?|ms|milliseconds?|s|secs?|seconds?|mins?|minutes?|h|hours?)$/i,
  bytes: /_(b|by|bytes?|kb|mb|gb|kib|mib|gib)$/i,
  ratio: /_(pct|percent|percentage|ratio)$/i,
};

export function unitConversion(unit: string | undefined): UnitConversion {
  const source = (unit ?? '').trim().toLowerCase();
  // Own keys only: `in` would also find Object.prototype's (a unit of "constructor" became seconds with a NaN factor).
  if (Object.hasOwn(TIME_UNITS, source)) return { unitClass: 'seconds', factor: TIME_UNITS[source]!, source };
  if (Object.hasOwn(BYTE_UNITS, source)) return { unitClass: 'bytes', factor: BYTE_UNITS[source]!, source };
  if (Object.hasOwn(RATIO_UNITS, source)) return { unitClass: 'ratio', factor: RATIO_UNITS[source]!, source };
  return { unitClass: 'none', factor: 1, source };
}

/** A value in the posted unit, in the base unit: sub-units divide (ms: value / 1000) so decimal inputs stay exact. */
export function toBaseUnit(value: number, unit: UnitConversion): number {
  return unit.factor >= 1 ? value * unit.factor : value / Math.round(1 / unit.factor);
}

/** `api.response_time` → `api_response_time`. */
export function sanitiseMetricName(name: string): string {
  const replaced = name.replace(/[^A-Za-z0-9_]/g, '_');
  return /^[0-9]/.test(replaced) ? `_${replaced}` : replaced;
}

/** The exposed family name: prefix, sanitised name, base-unit suffix, `_total` for counters. */
export function exposedMetricName(name: string, type: MetricType, unit: UnitConversion): string {
  let base = sanitiseMetricName(name);
  if (unit.unitClass !== 'none') {
    const stripped = base.replace(REDUNDANT_ENDINGS[unit.unitClass], '');
    base = `${stripped.length > 0 ? stripped : base}${SUFFIX[unit.unitClass]}`;
  }
  if (type === 'count' && !base.endsWith('_total')) base = `${base}_total`;
  return `${REEXPOSED_PREFIX}${base}`;
}

const RESERVED_LABELS = new Set(['le', 'quantile', 'job', 'instance']);

/** A tag name as a Prometheus label name (see the policy above). */
export function sanitiseLabelName(tag: string): string {
  let label = tag.replace(/[^A-Za-z0-9_]/g, '_');
  if (label.startsWith('__')) label = `tag_${label.replace(/^_+/, '')}`;
  else if (RESERVED_LABELS.has(label)) label = `tag_${label}`;
  else if (label.length === 0) label = 'tag_';
  else if (/^[0-9]/.test(label)) label = `_${label}`;
  return label;
}

/**
 * Histogram upper bounds per unit class, in base units. Seconds: 1 ms to 1 min (request and query times);
 * bytes: 64 B to 64 MiB in powers of 4; ratios: a 0-1 scale; no unit: a 1-2.5-5 scale from 0.01 to 100,000.
 */
export const HISTOGRAM_BUCKETS: Record<UnitClass, readonly number[]> = {
  seconds: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  bytes: [64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864],
  ratio: [0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1],
  none: [0.01, 0.1, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 100000],
};
