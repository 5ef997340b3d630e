import { isPlainObject } from '../json-values.js';
import { vigilLevel } from '../log-levels.js';
import { tagsFromDatadog, tagsFromDatadogList } from './datadog.tags.js';

type Raw = Record<string, unknown>;

/** A body the endpoint cannot read at all (not JSON, not the shape): answered 400. */
export class DatadogBodyError extends Error {}

/** Datadog's epoch seconds as Vigil's milliseconds; anything else passes for validation to name. */
function milliseconds(seconds: unknown): unknown {
  return typeof seconds === 'number' && Number.isFinite(seconds) ? Math.round(seconds * 1000) : seconds;
}

function seriesOf(body: unknown): Raw[] {
  const series = isPlainObject(body) ? body['series'] : undefined;
  if (!Array.isArray(series)) throw new DatadogBodyError('Payload must be an object with a "series" array');
  return series.map((entry) => (isPlainObject(entry) ? entry : {}));
}

/** v2 `type`: 0 unspecified, 1 count, 2 rate, 3 gauge. A rate is a per-second value: a gauge. */
const V2_TYPES: Record<number, string> = { 0: 'gauge', 1: 'count', 2: 'gauge', 3: 'gauge' };
const V1_TYPES: Record<string, string> = { gauge: 'gauge', count: 'count', rate: 'gauge' };

/** `POST /api/v2/series`: `{"series":[{metric, type, points:[{timestamp, value}], resources, tags, unit}]}`. */
export function metricsFromSeriesV2(body: unknown): Raw[] {
  return seriesOf(body).flatMap((series) => {
    const resources = Array.isArray(series['resources']) ? series['resources'].filter(isPlainObject) : [];
    const extra: Record<string, string> = {};
    for (const resource of resources) {
      if (typeof resource['type'] === 'string' && typeof resource['name'] === 'string') extra[resource['type']] = resource['name'];
    }
    const tags = tagsFromDatadog(series['tags'], extra);
    const type = V2_TYPES[series['type'] as number] ?? 'gauge';
    const points = Array.isArray(series['points']) ? series['points'] : [undefined];
    return points.map((point) => ({
      name: series['metric'],
      value: isPlainObject(point) ? point['value'] : undefined,
      type,
      timestamp: isPlainObject(point) ? milliseconds(point['timestamp']) : undefined,
      tags,
      ...(typeof series['unit'] === 'string' && series['unit'].length > 0 ? { unit: series['unit'] } : {}),
    }));
  });
}

function hostTags(series: Raw): Record<string, string> {
  return tagsFromDatadog(series['tags'], typeof series['host'] === 'string' && series['host'].length > 0 ? { host: series['host'] } : {});
}

/** `POST /api/v1/series`: `{"series":[{metric, points:[[ts, value]], type, host, tags}]}`. */
export function metricsFromSeriesV1(body: unknown): Raw[] {
  return seriesOf(body).flatMap((series) => {
    const tags = hostTags(series);
    const type = V1_TYPES[String(series['type'] ?? 'gauge')] ?? 'gauge';
    const points = Array.isArray(series['points']) ? series['points'] : [undefined];
    return points.map((point) => ({
      name: series['metric'],
      value: Array.isArray(point) ? point[1] : undefined,
      type,
      timestamp: Array.isArray(point) ? milliseconds(point[0]) : undefined,
      tags,
    }));
  });
}

/** `POST /api/v1/distribution_points`: `{"series":[{metric, points:[[ts, [v, …]]], host, tags}]}`, one item per value. */
export function metricsFromDistributionPoints(body: unknown): Raw[] {
  return seriesOf(body).flatMap((series) => {
    const tags = hostTags(series);
    const points = Array.isArray(series['points']) ? series['points'] : [];
    return points.flatMap((point) => {
      const values: unknown[] = Array.isArray(point) && Array.isArray(point[1]) ? point[1] : [undefined];
      const timestamp = Array.isArray(point) ? milliseconds(point[0]) : undefined;
      return values.map((value) => ({ name: series['metric'], value, type: 'distribution', timestamp, tags }));
    });
  });
}

/** A service check's status (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN) as an event's alert type. */
export function alertTypeOfCheckStatus(status: unknown): string {
  return status === 0 ? 'success' : status === 1 ? 'warning' : status === 2 ? 'error' : 'info';
}

const CHECK_STATUS_NAMES = ['ok', 'warning', 'critical', 'unknown'];

/** A service check as a Vigil event (`check_run` over HTTP, `_sc` over DogStatsD). */
export function eventOfServiceCheck(check: { name: unknown; status: unknown; message?: unknown; host?: unknown; tags: Record<string, string>; timestamp?: unknown }): Raw {
  const statusName = CHECK_STATUS_NAMES[check.status as number] ?? 'unknown';
  return {
    title: check.name,
    text: typeof check.message === 'string' && check.message.length > 0 ? check.message : `${String(check.name)} is ${statusName}`,
    alertType: alertTypeOfCheckStatus(check.status),
    tags: { ...check.tags, check_status: statusName, ...(typeof check.host === 'string' && check.host.length > 0 ? { host: check.host } : {}) },
    source: 'service_check',
    ...(check.timestamp !== undefined ? { timestamp: check.timestamp } : {}),
  };
}

/** `POST /api/v1/check_run`: `[{check, host_name, status, tags, message, timestamp}]`. */
export function eventsFromCheckRuns(body: unknown): Raw[] {
  if (!Array.isArray(body)) throw new DatadogBodyError('Payload must be an array of service checks');
  return body.map((run) => {
    const check = isPlainObject(run) ? run : {};
    return eventOfServiceCheck({
      name: check['check'],
      status: check['status'],
      message: check['message'],
      host: check['host_name'],
      tags: tagsFromDatadog(check['tags']),
      timestamp: check['timestamp'] === undefined ? undefined : milliseconds(check['timestamp']),
    });
  });
}

/** Datadog's alert types onto Vigil's four; user_update, recommendation and snapshot are info. */
export function vigilAlertType(alertType: unknown): string {
  return alertType === 'error' || alertType === 'warning' || alertType === 'success' ? alertType : 'info';
}

/** `POST /api/v1/events`: `{title, text, alert_type, tags, date_happened, host, source_type_name}`. */
export function eventFromEventsV1(body: unknown): Raw {
  if (!isPlainObject(body)) throw new DatadogBodyError('Payload must be an event object');
  const extra: Record<string, string> = typeof body['host'] === 'string' && body['host'].length > 0 ? { host: body['host'] } : {};
  return {
    title: body['title'],
    text: body['text'] ?? '',
    alertType: vigilAlertType(body['alert_type']),
    tags: tagsFromDatadog(body['tags'], extra),
    ...(body['date_happened'] !== undefined ? { timestamp: milliseconds(body['date_happened']) } : {}),
    ...(typeof body['source_type_name'] === 'string' ? { source: body['source_type_name'] } : {}),
  };
}

const LOG_CONSUMED = new Set(['message', 'status', 'service', 'timestamp', 'ddtags', 'trace_id', 'dd.trace_id']);

/**
 * `POST /api/v2/logs`: one log object or an array of them, `{message, status, service, ddsource,
 * ddtags, hostname, …}`, with `?ddtags=` for every log of the request. The level comes from
 * `status`, tags (`ddtags`) and other fields become attributes.
 */
export function logsFromLogsV2(body: unknown, queryTags: unknown): Raw[] {
  const logs = Array.isArray(body) ? body : isPlainObject(body) ? [body] : undefined;
  if (logs === undefined) throw new DatadogBodyError('Payload must be a log object or an array of them');
  const requestTags = tagsFromDatadogList(queryTags);
  return logs.map((log) => {
    const entry: Raw = isPlainObject(log) ? log : { message: log };
    const item: Raw = { message: typeof entry['message'] === 'string' ? entry['message'] : JSON.stringify(entry['message'] ?? entry) };
    const level = vigilLevel(entry['status']);
    if (level !== undefined) item['level'] = level;
    if (typeof entry['service'] === 'string') item['service'] = entry['service'];
    if (entry['timestamp'] !== undefined) item['timestamp'] = entry['timestamp'];
    const traceId = entry['dd.trace_id'] ?? entry['trace_id'];
    if (typeof traceId === 'string') item['traceId'] = traceId;
    const attributes: Raw = {};
    const tags = { ...requestTags, ...tagsFromDatadogList(entry['ddtags']) };
    if (Object.keys(tags).length > 0) attributes['tags'] = tags;
    for (const [name, value] of Object.entries(entry)) if (!LOG_CONSUMED.has(name)) attributes[name] = value;
    if (Object.keys(attributes).length > 0) item['attributes'] = attributes;
    return item;
  });
}
