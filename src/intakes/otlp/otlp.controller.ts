import { applyDecorators, Body, Controller, Headers, HttpCode, Post, Res } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOkResponse, ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { RequiresScope, SpeaksProtocol } from '../../common/auth.guard.js';
import { OtlpIntakeService } from './otlp-intake.service.js';
import { decodeExportRequest, invalidAnswer, successAnswer, type OtlpAnswer } from './otlp.answer.js';
import { encodingOf, otlpDialect } from './otlp.dialect.js';
import { OTLP_SIGNALS, type OtlpSignal } from './otlp.proto.js';
import { OtlpLimitError, OtlpShapeError } from './otlp.values.js';

/** An error answer of the OTLP routes: a google.rpc.Status in the request's encoding (otlpDialect). */
function OtlpStatusResponse(status: number, description: string) {
  const schema = { type: 'object', properties: { code: { type: 'integer', description: 'google.rpc.Code' }, message: { type: 'string' } } } as const;
  return ApiResponse({ status, description: `${description}: a google.rpc.Status in the request's encoding`, content: { 'application/json': { schema }, 'application/x-protobuf': { schema } } });
}

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
    OtlpStatusResponse(400, 'Not a valid export, past a limit of one export (README, "OpenTelemetry"), or every part refused'),
    OtlpStatusResponse(401, 'Missing or unknown API key'),
    OtlpStatusResponse(403, 'The API key lacks the ingest scope'),
    OtlpStatusResponse(408, 'The body did not arrive in time, or arrived slower than the minimum rate; the connection is closed'),
    OtlpStatusResponse(413, 'The body (after decompression) is over VIGIL_MAX_BODY_BYTES'),
    OtlpStatusResponse(415, 'Neither application/x-protobuf nor application/json, or a Content-Encoding other than gzip, deflate or zstd'),
    OtlpStatusResponse(429, 'Over the rate limit (VIGIL_RATE_LIMIT_MAX per window, per key or address); see Retry-After'),
    OtlpStatusResponse(503, 'A delivery queue is full, ingest commits are failing, Vigil holds as many request bodies as it may or is shutting down; see Retry-After'),
  );
}

/**
 * The OTLP/HTTP intake: `POST /v1/traces`, `/v1/metrics`, `/v1/logs` as OpenTelemetry SDKs and
 * Collectors send them, protobuf or JSON. Answers in the request's encoding: 200 with the
 * Export*ServiceResponse after the commit; every error (400 here, and every refusal Vigil makes
 * on these routes: 401, 403, 408, 413, 415, 429 and 503 with Retry-After) a google.rpc.Status,
 * worded by otlpDialect.
 */
@ApiTags('otlp')
@RequiresScope('ingest')
@SpeaksProtocol(otlpDialect)
@Controller('v1')
export class OtlpController {
  constructor(private readonly intake: OtlpIntakeService) {}

  private async take(signal: OtlpSignal, contentType: string | undefined, body: unknown, reply: FastifyReply): Promise<Buffer | string> {
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
