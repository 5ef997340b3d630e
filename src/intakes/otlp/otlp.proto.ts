import protobuf from 'protobufjs';
import descriptor from './otlp-proto.descriptor.json' with { type: 'json' };

/**
 * protobufjs 8 decodes a oneof member (`AnyValue.stringValue`, a data point's `asDouble`) by
 * assigning the oneof's virtual property, whose setter `delete`s every other member so that the
 * last member on the wire wins. Deleting a property the message does not hold changes nothing,
 * yet each is a call into V8's runtime: ~20 per data point (three oneofs of up to eight members),
 * a third of protobuf decoding's time on 1000-point exports. This setter deletes only the members
 * the message holds: the same result. The property is defined non-configurable when a type is
 * first set up, so the library's factory is replaced before any OTLP type is.
 */
protobuf.util.oneOfSetter = function oneOfSetter(members: string[]) {
  return function setOneof(this: Record<string, unknown>, name: string | undefined): void {
    for (const member of members) if (member !== name && Object.hasOwn(this, member)) delete this[member];
  };
};

/**
 * The OTLP message types, built once at startup from the descriptor generated from the vendored
 * opentelemetry-proto files (proto/README.md says why a descriptor and not the .proto files).
 */
const root = protobuf.Root.fromJSON(descriptor as protobuf.INamespace);

/** One OTLP signal: its export request and response types, and the response's rejected-count field. */
export interface OtlpSignalTypes {
  request: protobuf.Type;
  response: protobuf.Type;
  rejectedField: 'rejectedSpans' | 'rejectedDataPoints' | 'rejectedLogRecords';
  /** The request's one field: the repeated resource entries. */
  resourcesField: 'resourceSpans' | 'resourceMetrics' | 'resourceLogs';
}

export const OTLP_SIGNALS = {
  traces: {
    request: root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest'),
    response: root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse'),
    rejectedField: 'rejectedSpans',
    resourcesField: 'resourceSpans',
  },
  metrics: {
    request: root.lookupType('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest'),
    response: root.lookupType('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse'),
    rejectedField: 'rejectedDataPoints',
    resourcesField: 'resourceMetrics',
  },
  logs: {
    request: root.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest'),
    response: root.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse'),
    rejectedField: 'rejectedLogRecords',
    resourcesField: 'resourceLogs',
  },
} as const satisfies Record<string, OtlpSignalTypes>;
export type OtlpSignal = keyof typeof OTLP_SIGNALS;

/**
 * `google.rpc.Status`, the body of an OTLP error answer (code, message; `details` is never
 * sent). Its three fields are declared here through protobufjs's reflection API rather than by
 * vendoring googleapis for one message; the field numbers are those of google/rpc/status.proto.
 */
export const RPC_STATUS = new protobuf.Type('Status')
  .add(new protobuf.Field('code', 1, 'int32'))
  .add(new protobuf.Field('message', 2, 'string'));
new protobuf.Root().define('google.rpc').add(RPC_STATUS);
