import { SpanKind, SpanStatusCode, type Context } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPLogExporter as JsonLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as ProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPMetricExporter as JsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { MeterProvider, MetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';

/**
 * The real, unmodified OpenTelemetry JS SDK and OTLP exporters (0.223 / 2.12, the newest on
 * Node 20), as a service would use them: spans, metrics and logs are made by the SDK, then
 * exported by the `-proto` (protobuf) or `-http` (JSON) exporter, with or without gzip.
 */
export type OtlpEncodingUnderTest = 'protobuf' | 'json';
export interface ExporterOptions {
  baseUrl: string;
  encoding: OtlpEncodingUnderTest;
  gzip: boolean;
  headers: Record<string, string>;
}

function exporterConfig(options: ExporterOptions, signal: 'traces' | 'metrics' | 'logs') {
  return { url: `${options.baseUrl}/v1/${signal}`, headers: options.headers, compression: (options.gzip ? 'gzip' : 'none') as never, timeoutMillis: 10_000 };
}

interface Exporter<T> {
  export(items: T, done: (result: ExportResult) => void): void;
  shutdown(): Promise<void>;
}

async function exportWith<T>(exporter: Exporter<T>, items: T): Promise<ExportResult> {
  try {
    return await new Promise<ExportResult>((resolve) => exporter.export(items, resolve));
  } finally {
    await exporter.shutdown();
  }
}

export const SUCCESS = ExportResultCode.SUCCESS;

export function resource(service: string, extra: Record<string, string> = {}) {
  return resourceFromAttributes({ 'service.name': service, 'service.instance.id': `instance-${Math.random()}`, ...extra });
}

export interface ServerSpan {
  route: string;
  method: string;
  status: number;
  startMs: number;
  durationMs: number;
  error?: boolean;
  kind?: SpanKind;
}

/** Finished spans made by the SDK's tracer, with exact start and end times. */
export function makeSpans(service: string, spans: readonly ServerSpan[]): ReadableSpan[] {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ resource: resource(service), spanProcessors: [new SimpleSpanProcessor(memory)] });
  const tracer = provider.getTracer('vigil-test');
  for (const spec of spans) {
    const span = tracer.startSpan(`${spec.method} ${spec.route}`, {
      kind: spec.kind ?? SpanKind.SERVER,
      startTime: spec.startMs,
      attributes: { 'http.route': spec.route, 'http.request.method': spec.method, 'http.response.status_code': spec.status },
    });
    if (spec.error) span.setStatus({ code: SpanStatusCode.ERROR, message: 'failed' });
    span.end(spec.startMs + spec.durationMs);
  }
  return memory.getFinishedSpans();
}

export function exportSpans(options: ExporterOptions, spans: ReadableSpan[]): Promise<ExportResult> {
  const config = exporterConfig(options, 'traces');
  return exportWith(options.encoding === 'protobuf' ? new ProtoTraceExporter(config) : new JsonTraceExporter(config), spans);
}

/** A metric reader collected by hand: each `collect()` is one export's worth (cumulative temporality, the SDK's default). */
export class ManualReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

export function meterProvider(service: string): { provider: MeterProvider; reader: ManualReader } {
  const reader = new ManualReader();
  return { provider: new MeterProvider({ resource: resource(service), readers: [reader] }), reader };
}

export async function exportMetrics(options: ExporterOptions, reader: ManualReader): Promise<{ result: ExportResult; collected: ResourceMetrics }> {
  const { resourceMetrics } = await reader.collect();
  return { result: await exportCollected(options, resourceMetrics), collected: resourceMetrics };
}

/** Exports metrics collected before (an exporter's retry sends the same points again). */
export function exportCollected(options: ExporterOptions, collected: ResourceMetrics): Promise<ExportResult> {
  const config = exporterConfig(options, 'metrics');
  return exportWith(options.encoding === 'protobuf' ? new ProtoMetricExporter(config) : new JsonMetricExporter(config), collected);
}

export interface LogSpec {
  severity: SeverityNumber;
  text: string;
  body: string;
  attributes?: Record<string, string | number>;
  /** A context holding a span: the record carries its trace and span ids. */
  context?: Context;
}

/** Finished log records made by the SDK's logger. */
export function makeLogs(service: string, logs: readonly LogSpec[]): ReadableLogRecord[] {
  const memory = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({ resource: resource(service), processors: [new SimpleLogRecordProcessor({ exporter: memory })] });
  const logger = provider.getLogger('vigil-test');
  for (const log of logs) logger.emit({ severityNumber: log.severity, severityText: log.text, body: log.body, attributes: log.attributes ?? {}, ...(log.context ? { context: log.context } : {}) });
  return memory.getFinishedLogRecords();
}

export function exportLogs(options: ExporterOptions, logs: ReadableLogRecord[]): Promise<ExportResult> {
  const config = exporterConfig(options, 'logs');
  return exportWith(options.encoding === 'protobuf' ? new ProtoLogExporter(config) : new JsonLogExporter(config), logs);
}

export { SeverityNumber, SpanKind };
