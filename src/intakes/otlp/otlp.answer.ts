import type { DialectAnswer } from '../../common/protocol-dialect.js';
import { PROTOBUF_MEDIA_TYPE, rpcStatusAnswer, type OtlpEncoding } from './otlp.dialect.js';
import { OTLP_SIGNALS, type OtlpSignal } from './otlp.proto.js';
import type { OtlpOutcome } from './otlp-intake.service.js';
import { isNode, OtlpShapeError } from './otlp.values.js';

/** An answer of the OTLP routes, in the request's encoding (the body already encoded). */
export type OtlpAnswer = DialectAnswer;

/**
 * The export request as a message tree: protobuf decoded with the OTLP types, JSON as parsed.
 * Throws OtlpShapeError for a body that is neither (answered 400).
 */
export function decodeExportRequest(signal: OtlpSignal, encoding: OtlpEncoding, body: unknown): Record<string, unknown> {
  if (encoding === 'json') {
    if (body === undefined) return {};
    if (!isNode(body)) throw new OtlpShapeError('the body must be a JSON object');
    return body;
  }
  if (body === undefined) return {};
  if (!(body instanceof Uint8Array)) throw new OtlpShapeError('the body must be protobuf');
  const { request, resourcesField } = OTLP_SIGNALS[signal];
  let decoded: Record<string, unknown>;
  try {
    decoded = request.decode(body) as unknown as Record<string, unknown>;
  } catch (error) {
    // protobufjs throws for truncated input, invalid wire types and lengths, and messages
    // nested past its depth limit; a stack exhausted first is a RangeError. None is an export.
    const reason = error instanceof RangeError && /call stack/i.test(error.message) ? 'messages nest too deeply' : error instanceof Error ? error.message : String(error);
    throw new OtlpShapeError(`the body is not a valid ${request.name}: ${reason}`);
  }
  // protobufjs skips fields of an unexpected wire type: bytes of which nothing was understood
  // are not an export (an empty export is an empty body).
  const resources = decoded[resourcesField];
  if (body.length > 0 && (!Array.isArray(resources) || resources.length === 0)) {
    throw new OtlpShapeError(`the body is not a valid ${request.name}: it holds no ${resourcesField}`);
  }
  return decoded;
}

/**
 * The 200 after the commit: an empty Export*ServiceResponse, or one with `partialSuccess` (the
 * rejected count and the first reasons) when anything was refused.
 */
export function successAnswer(signal: OtlpSignal, encoding: OtlpEncoding, outcome: OtlpOutcome): OtlpAnswer {
  const { response, rejectedField } = OTLP_SIGNALS[signal];
  const more = outcome.rejected > outcome.problems.length && outcome.problems.length > 0 ? ' …' : '';
  const partialSuccess = outcome.rejected === 0 ? undefined : { rejected: outcome.rejected, errorMessage: `${outcome.problems.join('; ')}${more}` };
  if (encoding === 'json') {
    // OTLP/JSON writes 64-bit integers as strings.
    const body = partialSuccess === undefined ? {} : { partialSuccess: { [rejectedField]: String(partialSuccess.rejected), errorMessage: partialSuccess.errorMessage } };
    return { status: 200, contentType: 'application/json', body: JSON.stringify(body) };
  }
  const message = response.create(partialSuccess === undefined ? {} : { partialSuccess: { [rejectedField]: partialSuccess.rejected, errorMessage: partialSuccess.errorMessage } });
  return { status: 200, contentType: PROTOBUF_MEDIA_TYPE, body: Buffer.from(response.encode(message).finish()) };
}

/** A 400 with a google.rpc.Status (INVALID_ARGUMENT and the reason) in the request's encoding. */
export function invalidAnswer(encoding: OtlpEncoding, message: string): OtlpAnswer {
  return rpcStatusAnswer(encoding, 400, message);
}
