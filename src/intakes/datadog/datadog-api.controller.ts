import { Body, Controller, Post, Query, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { RequiresScope, SpeaksProtocol } from '../../common/auth.guard.js';
import type { RawRequestBody } from '../../common/raw-body.js';
import { datadogDialect } from './datadog.dialect.js';
import { DatadogApiService, type DatadogEndpoint } from './datadog-api.service.js';

/**
 * The Datadog API routes that instrumentation sends to (the official API client, DogStatsD's
 * HTTP cousins, Agent-less shippers): series v1 and v2, distribution points, check runs, events
 * and logs, authenticated by `DD-API-KEY`. Documented in README, not in the OpenAPI document.
 */
@ApiExcludeController()
@RequiresScope('ingest')
@SpeaksProtocol(datadogDialect, { rawBody: true })
@Controller('api')
export class DatadogApiController {
  constructor(private readonly datadog: DatadogApiService) {}

  private async take(endpoint: DatadogEndpoint, body: RawRequestBody, reply: FastifyReply, ddtags?: unknown): Promise<void> {
    const answer = await this.datadog.receive(endpoint, body, ddtags);
    void reply.code(answer.status).header('content-type', 'application/json').send(JSON.stringify(answer.body));
  }

  @Post('v2/series')
  seriesV2(@Body() body: RawRequestBody, @Res() reply: FastifyReply): Promise<void> {
    return this.take('seriesV2', body, reply);
  }

  @Post('v1/series')
  seriesV1(@Body() body: RawRequestBody, @Res() reply: FastifyReply): Promise<void> {
    return this.take('seriesV1', body, reply);
  }

  @Post('v1/distribution_points')
  distributionPoints(@Body() body: RawRequestBody, @Res() reply: FastifyReply): Promise<void> {
    return this.take('distributionPoints', body, reply);
  }

  @Post('v1/check_run')
  checkRun(@Body() body: RawRequestBody, @Res() reply: FastifyReply): Promise<void> {
    return this.take('checkRun', body, reply);
  }

  @Post('v1/events')
  events(@Body() body: RawRequestBody, @Res() reply: FastifyReply): Promise<void> {
    return this.take('eventsV1', body, reply);
  }

  @Post('v2/logs')
  logs(@Body() body: RawRequestBody, @Query('ddtags') ddtags: unknown, @Res() reply: FastifyReply): Promise<void> {
    return this.take('logsV2', body, reply, ddtags);
  }
}
