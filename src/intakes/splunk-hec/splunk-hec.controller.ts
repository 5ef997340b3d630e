import { Body, Controller, Get, Headers, Post, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiKeyRing } from '../../common/api-keys.js';
import { authorizeKey, RequiresScope, SpeaksProtocol } from '../../common/auth.guard.js';
import type { RawRequestBody } from '../../common/raw-body.js';
import { HEC_CODES, splunkHecDialect } from './splunk-hec.dialect.js';
import { SplunkHecService, type HecReply } from './splunk-hec.service.js';

type HecQuery = Record<string, string | undefined>;

function send(reply: FastifyReply, answer: HecReply): void {
  void reply.code(answer.status).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(answer.body));
}

/**
 * Splunk's HTTP Event Collector, for clients that send to Splunk unchanged (splunk-logging,
 * Fluent Bit, the OTel Collector's splunk_hec exporter, syslog daemons): events
 * (`/services/collector`, `/event`, `/event/1.0`: concatenated JSON envelopes), raw lines
 * (`/raw`), indexer acknowledgements (`/ack`) and `/health`. Any Content-Type: HEC clients send
 * `application/x-www-form-urlencoded`, JSON or nothing. The token is `Authorization: Splunk
 * <token>`, one of Vigil's ingest keys; every answer is HEC's `{"text","code"}`. Documented in
 * README (Splunk HEC), not in the OpenAPI document, which describes Vigil's own API.
 */
@ApiExcludeController()
@RequiresScope('ingest')
@SpeaksProtocol(splunkHecDialect, { rawBody: true })
@Controller('services/collector')
export class SplunkHecController {
  constructor(
    private readonly hec: SplunkHecService,
    private readonly keys: ApiKeyRing,
  ) {}

  @Post(['', 'event', 'event/1.0'])
  async events(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Body() body: RawRequestBody, @Headers('x-splunk-request-channel') channel: string | undefined, @Query() query: HecQuery): Promise<void> {
    if (this.refusedQueryToken(request, reply, query)) return;
    send(reply, await this.hec.receive({ body, channel: channel ?? query['channel'], query: {} }, 'event'));
  }

  @Post(['raw', 'raw/1.0'])
  async raw(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Body() body: RawRequestBody, @Headers('x-splunk-request-channel') channel: string | undefined, @Query() query: HecQuery): Promise<void> {
    if (this.refusedQueryToken(request, reply, query)) return;
    const metadata = { host: query['host'], source: query['source'], sourcetype: query['sourcetype'], index: query['index'], time: query['time'] };
    send(reply, await this.hec.receive({ body, channel: channel ?? query['channel'], query: metadata }, 'raw'));
  }

  @Post(['ack', 'ack/1.0'])
  acknowledge(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Body() body: RawRequestBody, @Headers('x-splunk-request-channel') channel: string | undefined, @Query() query: HecQuery): void {
    if (this.refusedQueryToken(request, reply, query)) return;
    let parsed: unknown;
    try {
      parsed = body === undefined ? undefined : JSON.parse(body.toString());
    } catch {
      parsed = undefined;
    }
    send(reply, this.hec.acknowledge(channel ?? query['channel'], parsed));
  }

  /**
   * A token in the query string (the headers hook left it, see splunk-hec.dialect.ts): code 16
   * unless VIGIL_HEC_QUERY_TOKEN allows it, then checked as a header token would be.
   */
  private refusedQueryToken(request: FastifyRequest, reply: FastifyReply, query: HecQuery): boolean {
    if (request.apiKeyId !== undefined || this.keys.isEmpty || splunkHecDialect.presentedKey(request) !== undefined) return false;
    if (!this.hec.allowsQueryToken) {
      send(reply, { status: 400, body: { text: 'Query string authorization is not enabled', code: HEC_CODES.queryTokenDisabled } });
      return true;
    }
    const refusal = authorizeKey(this.keys, request, query['token'] ?? '', 'ingest');
    if (refusal === null) return false;
    const answer = splunkHecDialect.errorAnswer(refusal.status, refusal.message, refusal.reason, request);
    void reply.code(answer.status).header('content-type', answer.contentType).send(answer.body);
    return true;
  }
}

/** `/services/collector/health`: open, as Splunk's is (load balancers probe it without a token). */
@ApiExcludeController()
@SpeaksProtocol(splunkHecDialect)
@Controller('services/collector')
export class SplunkHecHealthController {
  @Get(['health', 'health/1.0'])
  health(@Res() reply: FastifyReply): void {
    send(reply, { status: 200, body: { text: 'HEC is healthy', code: HEC_CODES.healthy } });
  }
}
