import { applyDecorators, Body, Controller, Headers, HttpCode, Post, Res } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOkResponse, ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiErrorResponse, ApiServedResponses } from '../../common/api-responses.js';
import { RequiresScope } from '../../common/auth.guard.js';
import { OtlpIntakeService } from './otlp-intake.service.js';
import { decodeExportRequest, encodingOf, invalidAnswer, successAnswer, type OtlpAnswer } from './otlp.answer.js';
import { OTLP_SIGNALS, type OtlpSignal } from './otlp.proto.js';
import { OtlpLimitError, OtlpShapeError } from './otlp.values.js';

function OtlpEndpointDoc(signal: OtlpSignal, summary: string) {
  const { request, response, rejectedField } = OTLP_SIGNALS[signal];
  return applyDecorators(
    HttpCode(200),
    ApiOperation({ summary, description: `An OTLP/HTTP export (${request.fullName.slice(1)}); README, "OpenTelemetry (OTLP)", states the mapping.` }),
    ApiConsumes('application/x-protobuf', 'application/json'),
    ApiProduces('application/x-protobuf', 'application/json'),
    ApiBody({ description: `${request.name}, protobuf or OTLP/JSON (gzip allowed)`, schema: { type: 'object', additionalProperties: true } }),
    ApiOkResponse({
      description: `Committed. ${response.name} in the request's encoding; partialSuccess.${rejectedField} and errorMessage when parts were refused`,
      schema: { type: 'object', properties: { partialSuccess: { type: 'object', properties: { [rejectedField]: { type: 'string' }, errorMessage: { type: 'string' } } } } },
    }),
    ApiResponse({
      status: 400,
      description: 'Not a valid export, or every part refused: a google.rpc.Status in the request\'s encoding',
      schema: { type: 'object', properties: { code: { type: 'integer' }, message: { type: 'string' } } },
    }),
    ApiErrorResponse(408, 'The body did not arrive in time, or arrived slower than the minimum rate; the connection is closed'),
    ApiErrorResponse(413, 'The body (after gzip expansion) is over VIGIL_MAX_BODY_BYTES'),
    ApiErrorResponse(415, 'Neither application/x-protobuf nor application/json, or a Content-Encoding other than gzip'),
    ApiErrorResponse(503, 'A delivery queue is full, ingest commits are failing, Vigil holds as many request bodies as it may or is shutting down; see Retry-After'),
  );
}

/**
 * The OTLP/HTTP intake: `POST /v1/traces`, `/v1/metrics`, `/v1/logs` as OpenTelemetry SDKs and
 * Collectors send them, protobuf or JSON. Answers in the request's encoding: 200 with the
 * Export*ServiceResponse after the commit, 400 with a google.rpc.Status; 429 and 503 with
 * Retry-After come from the rate limiter and ingest in Vigil's JSON error body (the exporters
 * read only the status and Retry-After there).
 */
@ApiTags('otlp')
@ApiServedResponses()
@RequiresScope('ingest')
@Controller('v1')
export class OtlpController {
  constructor(private readonly intake: OtlpIntakeService) {}

  private async take(signal: OtlpSignal, contentType: string | undefined, body: unknown, reply: FastifyReply): Promise<Buffer | Record<string, unknown>> {
    const encoding = encodingOf(contentType);
    let answer: OtlpAnswer;
    try {
      const outcome = await this.intake.export(signal, decodeExportRequest(signal, encoding, body));
      answer = outcome.accepted === 0 && outcome.rejected > 0
        ? invalidAnswer(encoding, `every part of the export was refused: ${outcome.problems.join('; ')}`)
        : successAnswer(signal, encoding, outcome);
    } catch (error) {
      if (!(error instanceof OtlpShapeError) && !(error instanceof OtlpLimitError)) throw error;
      answer = invalidAnswer(encoding, error.message);
    }
    void reply.status(answer.status).header('content-type', answer.contentType);
    return answer.body;
  }

  @Post('traces')
  @OtlpEndpointDoc('traces', 'OTLP traces: server and consumer spans become request timings')
  traces(@Headers('content-type') contentType: string | undefined, @Body() body: unknown, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.take('traces', contentType, body, reply);
  }

  @Post('metrics')
  @OtlpEndpointDoc('metrics', 'OTLP metrics: gauges and sums become metric points')
  metrics(@Headers('content-type') contentType: string | undefined, @Body() body: unknown, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.take('metrics', contentType, body, reply);
  }

  @Post('logs')
  @OtlpEndpointDoc('logs', 'OTLP logs: log records become logs')
  logs(@Headers('content-type') contentType: string | undefined, @Body() body: unknown, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.take('logs', contentType, body, reply);
  }
}
