import { DecodedExport } from './otlp.batch.js';
import { resourceTags } from './otlp.tags.js';
import { attributesOf, attributeString, child, intField, list, millisField, nanosBetween, stringField } from './otlp.values.js';

type Node = Record<string, unknown>;

/** OTLP's Span.SpanKind and Status.StatusCode values. */
const SPAN_KIND_NAMES = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'] as const;
export type SpanKindName = (typeof SPAN_KIND_NAMES)[number];
const SERVER = 2;
const CONSUMER = 5;
const STATUS_ERROR = 2;

/** The service of spans whose resource names none (the SDKs' own default is `unknown_service:<process>`). */
export const UNKNOWN_SERVICE = 'unknown_service';

/** A decoded trace export: request items from SERVER and CONSUMER spans, and every span counted by kind. */
export class DecodedTraces extends DecodedExport {
  readonly spansByKind = new Map<SpanKindName, number>();
}

/**
 * ExportTraceServiceRequest → request items, exactly as `/ingest/requests` takes them. Only
 * SERVER and CONSUMER spans are requests (a request handled, a message consumed): each gives
 * `service` (resource `service.name`), `operation` (`<http.request.method> <http.route>`, or
 * `http.route`, or the span name), `durationMs` (end − start), `statusCode`
 * (`http.response.status_code`, else `http.status_code`), `success` and `timestamp` (the end).
 * A span whose status is ERROR is a failure whatever its HTTP status: when that status is
 * below 500 it is left out (ingest would read it as a success). Spans of other kinds are
 * counted, not stored; no span is stored beyond its request item.
 */
export function decodeTraces(request: Node): DecodedTraces {
  const decoded = new DecodedTraces();
  for (const resourceSpans of list(request, 'resourceSpans')) {
    const service = resourceTags(child(resourceSpans, 'resource'), 'resource')['service'] ?? UNKNOWN_SERVICE;
    for (const scopeSpans of list(resourceSpans, 'scopeSpans')) {
      resourceTags(child(scopeSpans, 'scope'), 'scope');
      for (const span of list(scopeSpans, 'spans')) {
        // Every span is held to the attribute limit, whatever its kind (OtlpLimitError refuses the export).
        const attributes = attributesOf(span, 'span');
        const kind = intField(span, 'kind');
        const kindName = SPAN_KIND_NAMES[kind] ?? 'unspecified';
        decoded.spansByKind.set(kindName, (decoded.spansByKind.get(kindName) ?? 0) + 1);
        if (kind !== SERVER && kind !== CONSUMER) continue;
        const item = requestOf(service, span, attributes);
        if (typeof item === 'string') decoded.reject(item);
        else decoded.items.push(item);
      }
    }
  }
  return decoded;
}

function requestOf(service: string, span: Node, attributes: readonly Node[]): Record<string, unknown> | string {
  const { startSet, nanos } = nanosBetween(span, 'startTimeUnixNano', 'endTimeUnixNano');
  const name = stringField(span, 'name');
  if (!startSet || nanos < 0) return `span "${name.slice(0, 100)}" has no valid start and end time`;
  const route = attributeString(attributes, 'http.route');
  const method = attributeString(attributes, 'http.request.method') ?? attributeString(attributes, 'http.method');
  const operation = route === undefined ? name : method === undefined ? route : `${method} ${route}`;
  const status = attributeString(attributes, 'http.response.status_code') ?? attributeString(attributes, 'http.status_code');
  const statusCode = status === undefined ? undefined : Number(status);
  const failed = intField(child(span, 'status') ?? {}, 'code') === STATUS_ERROR;
  const item: Record<string, unknown> = {
    service,
    durationMs: nanos / 1e6,
    success: !failed,
    timestamp: millisField(span, 'endTimeUnixNano'),
  };
  if (operation.length > 0) item['operation'] = operation;
  if (statusCode !== undefined && Number.isInteger(statusCode) && (!failed || statusCode >= 500)) item['statusCode'] = statusCode;
  return item;
}
