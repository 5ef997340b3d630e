import { DecodedExport } from './otlp.batch.js';
import { resourceTags } from './otlp.tags.js';
import { anyValue, attributesObject, attributesOf, child, has, idField, intField, list, millisField, OtlpShapeError, stringField } from './otlp.values.js';

type Node = Record<string, unknown>;
type Level = 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/** SeverityNumber ranges of the OTel log data model, 1-4 TRACE … 21-24 FATAL; TRACE is Vigil's debug. */
const LEVEL_BY_SEVERITY_RANGE: readonly Level[] = ['debug', 'debug', 'info', 'warn', 'error', 'fatal'];
const LEVEL_BY_TEXT: Readonly<Record<string, Level>> = {
  trace: 'debug',
  debug: 'debug',
  info: 'info',
  information: 'info',
  warn: 'warn',
  warning: 'warn',
  error: 'error',
  fatal: 'fatal',
  critical: 'fatal',
};

/** A record's level: its severity number, else its severity text, else info. */
export function levelOf(severityNumber: number, severityText: string): Level {
  if (severityNumber >= 1 && severityNumber <= 24) return LEVEL_BY_SEVERITY_RANGE[Math.floor((severityNumber - 1) / 4)]!;
  return LEVEL_BY_TEXT[severityText.trim().toLowerCase()] ?? 'info';
}

/**
 * ExportLogsServiceRequest → log items: `level` from the severity, `message` from the body (a
 * string as it is, any other value as JSON; an empty body takes the event name), `timestamp`
 * from the time (else the observed time, else now), `service` from the resource's
 * `service.name`, `attributes` from the record's attributes plus `spanId`, and `traceId`. A
 * record of the wrong shape (OTLP/JSON) is refused alone; one past OTLP_VALUE_LIMITS refuses the
 * export (OtlpLimitError). Scope attributes are only checked against the limit.
 */
export function decodeLogs(request: Node): DecodedExport {
  const decoded = new DecodedExport();
  for (const resourceLogs of list(request, 'resourceLogs')) {
    const service = resourceTags(child(resourceLogs, 'resource'), 'resource')['service'];
    for (const scopeLogs of list(resourceLogs, 'scopeLogs')) {
      resourceTags(child(scopeLogs, 'scope'), 'scope');
      for (const record of list(scopeLogs, 'logRecords')) {
        try {
          decoded.items.push(logOf(service, record));
        } catch (error) {
          if (!(error instanceof OtlpShapeError)) throw error;
          decoded.reject(`a log record: ${error.message}`);
        }
      }
    }
  }
  return decoded;
}

function logOf(service: string | undefined, record: Node): Record<string, unknown> {
  const body = has(record, 'body') ? anyValue(record['body']) : null;
  const message = typeof body === 'string' ? body : body === null ? stringField(record, 'eventName') : JSON.stringify(body);
  const time = millisField(record, 'timeUnixNano') ?? millisField(record, 'observedTimeUnixNano');
  const item: Record<string, unknown> = {
    message,
    level: levelOf(intField(record, 'severityNumber'), stringField(record, 'severityText')),
    timestamp: time,
  };
  if (service !== undefined) item['service'] = service;
  const attributes = attributesObject(attributesOf(record, 'log record'));
  const spanId = idField(record, 'spanId');
  if (spanId !== undefined) attributes['spanId'] = spanId;
  if (Object.keys(attributes).length > 0) item['attributes'] = attributes;
  const traceId = idField(record, 'traceId');
  if (traceId !== undefined) item['traceId'] = traceId;
  return item;
}
