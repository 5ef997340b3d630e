import { isPlainObject } from '../json-values.js';
import { HEC_CODES } from './splunk-hec.dialect.js';
import { vigilLevel } from '../log-levels.js';
import { parseConcatenatedJson } from './concatenated-json.js';

/** The first event of a request that HEC refuses, and the code and text it answers with. */
export interface HecProblem {
  eventNumber: number;
  code: number;
  text: string;
}

/** A request's events as Vigil's raw items, in request order, each with its HEC event number. */
export interface DecodedHecRequest {
  logs: Array<Record<string, unknown>>;
  logEventNumbers: number[];
  metrics: Array<Record<string, unknown>>;
  metricEventNumbers: number[];
  problem: HecProblem | null;
}

/** Metadata HEC sends beside the event, kept as log attributes. */
export interface HecMetadata {
  host?: unknown;
  source?: unknown;
  sourcetype?: unknown;
  index?: unknown;
}

const MESSAGE_FIELDS = ['message', 'msg', 'log', 'text'] as const;
const LEVEL_FIELDS = ['level', 'severity', 'log_level', 'loglevel', 'log.level'] as const;
const SERVICE_FIELDS = ['service', 'service.name', 'app', 'application'] as const;
const TRACE_FIELDS = ['traceId', 'trace_id', 'trace.id'] as const;

/** HEC `time`: epoch seconds with a fraction, as a number or a string; Vigil's items take milliseconds. */
function epochMilliseconds(time: unknown): unknown {
  if (typeof time === 'string' && /^\d+(\.\d+)?$/.test(time.trim())) return Math.round(Number(time) * 1000);
  if (typeof time === 'number' && Number.isFinite(time)) return Math.round(time * 1000);
  // Anything else goes through as it came, for ingest's validation to name.
  return time;
}

/**
 * One HEC event onto a log item: a string event is the message; an object event gives the
 * message from its `message`/`msg`/`log`/`text` (else the whole object as JSON), the level from
 * `level`/`severity`/`log_level`, the service from `service`/`service.name`/`app` (else the
 * `source`), the trace id from `traceId`/`trace_id`; its other fields, the indexed `fields` and
 * host/source/sourcetype/index become attributes.
 */
export function hecEventToLog(event: unknown, envelope: HecMetadata & { time?: unknown; fields?: unknown }): Record<string, unknown> {
  const attributes: Record<string, unknown> = {};
  for (const name of ['host', 'source', 'sourcetype', 'index'] as const) {
    if (envelope[name] !== undefined) attributes[name] = envelope[name];
  }
  if (isPlainObject(envelope.fields)) Object.assign(attributes, envelope.fields);
  const item: Record<string, unknown> = {};
  if (isPlainObject(event) && isPlainObject(event['message'])) {
    // splunk-logging's own shape, `{"message": <what the app logged>, "severity"}`: read the
    // object the app logged as the event, with the severity beside it.
    const { message: logged, ...beside } = event;
    event = { ...beside, ...(logged as Record<string, unknown>) };
  }
  if (isPlainObject(event)) {
    const consumed = new Set<string>();
    const take = (fields: readonly string[]): string | undefined => {
      const field = fields.find((name) => typeof event[name] === 'string' && (event[name] as string).length > 0);
      if (field === undefined) return undefined;
      consumed.add(field);
      return event[field] as string;
    };
    item['message'] = take(MESSAGE_FIELDS) ?? JSON.stringify(event);
    const levelField = LEVEL_FIELDS.find((field) => event[field] !== undefined);
    if (levelField !== undefined) consumed.add(levelField);
    const level = vigilLevel(levelField === undefined ? attributes['level'] : event[levelField]);
    if (level !== undefined) item['level'] = level;
    const service = take(SERVICE_FIELDS);
    if (service !== undefined) item['service'] = service;
    const traceId = take(TRACE_FIELDS);
    if (traceId !== undefined) item['traceId'] = traceId;
    for (const [field, value] of Object.entries(event)) {
      if (!consumed.has(field)) attributes[field] = value;
    }
  } else {
    item['message'] = typeof event === 'string' ? event : JSON.stringify(event);
  }
  if (item['service'] === undefined && typeof envelope.source === 'string' && envelope.source.length > 0) item['service'] = envelope.source;
  if (envelope.time !== undefined) item['timestamp'] = epochMilliseconds(envelope.time);
  if (Object.keys(attributes).length > 0) item['attributes'] = attributes;
  return item;
}

/**
 * A HEC metric event (`"event":"metric"`) onto gauges: one per `metric_name:<name>` field
 * (multiple-metric format), or `metric_name` with `_value`; the other fields are its tags.
 * Null when the fields name no metric.
 */
export function hecMetricToItems(envelope: HecMetadata & { time?: unknown; fields?: unknown }): Array<Record<string, unknown>> | null {
  if (!isPlainObject(envelope.fields)) return null;
  const fields = envelope.fields;
  const tags: Record<string, string> = {};
  const values: Array<[string, unknown]> = [];
  for (const [field, value] of Object.entries(fields)) {
    if (field.startsWith('metric_name:')) values.push([field.slice('metric_name:'.length), value]);
    else if (field !== 'metric_name' && field !== '_value' && (typeof value === 'string' || typeof value === 'number')) tags[field] = String(value);
  }
  if (typeof fields['metric_name'] === 'string') values.push([fields['metric_name'], fields['_value']]);
  if (values.length === 0) return null;
  if (typeof envelope.host === 'string') tags['host'] = envelope.host;
  const timestamp = envelope.time === undefined ? undefined : epochMilliseconds(envelope.time);
  return values.map(([name, value]) => ({
    name,
    value: typeof value === 'string' && value.trim() !== '' ? Number(value) : value,
    type: 'gauge',
    tags,
    ...(timestamp !== undefined ? { timestamp } : {}),
  }));
}

/**
 * The body of `/services/collector[/event[/1.0]]`: concatenated JSON envelopes
 * `{"time","host","source","sourcetype","index","event","fields"}`. Reading stops at the first
 * event HEC would refuse (unreadable JSON: code 6; no `event`: 12; an empty one: 13); the events
 * before it are returned, as Splunk indexes them.
 */
export function decodeHecEvents(text: string, maxEvents: number): DecodedHecRequest {
  const decoded: DecodedHecRequest = { logs: [], logEventNumbers: [], metrics: [], metricEventNumbers: [], problem: null };
  const { objects, problem } = parseConcatenatedJson(text, maxEvents);
  for (let eventNumber = 0; eventNumber < objects.length; eventNumber++) {
    const envelope = objects[eventNumber]!;
    const event = envelope['event'];
    if (event === undefined || event === null) {
      decoded.problem = { eventNumber, code: HEC_CODES.eventRequired, text: 'Event field is required' };
      return decoded;
    }
    if (event === '' || (isPlainObject(event) && Object.keys(event).length === 0)) {
      decoded.problem = { eventNumber, code: HEC_CODES.eventBlank, text: 'Event field cannot be blank' };
      return decoded;
    }
    const metrics = event === 'metric' ? hecMetricToItems(envelope) : null;
    if (metrics !== null) {
      for (const metric of metrics) {
        decoded.metrics.push(metric);
        decoded.metricEventNumbers.push(eventNumber);
      }
    } else {
      decoded.logs.push(hecEventToLog(event, envelope));
      decoded.logEventNumbers.push(eventNumber);
    }
  }
  if (problem !== null) decoded.problem = { eventNumber: problem.index, code: HEC_CODES.invalidDataFormat, text: 'Invalid data format' };
  return decoded;
}

/**
 * The body of `/services/collector/raw`: one event per line (empty lines skipped), with the
 * metadata from the query string.
 */
export function decodeHecRaw(text: string, metadata: HecMetadata & { time?: unknown }, maxEvents: number): DecodedHecRequest {
  const decoded: DecodedHecRequest = { logs: [], logEventNumbers: [], metrics: [], metricEventNumbers: [], problem: null };
  let eventNumber = 0;
  for (const line of text.split('\n')) {
    const message = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (message.trim().length === 0) continue;
    if (eventNumber >= maxEvents) {
      decoded.problem = { eventNumber, code: HEC_CODES.invalidDataFormat, text: `Invalid data format: more than ${maxEvents} events in one request` };
      return decoded;
    }
    decoded.logs.push(hecEventToLog(message, metadata));
    decoded.logEventNumbers.push(eventNumber++);
  }
  return decoded;
}
