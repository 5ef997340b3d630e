import { Body, Controller, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiKeyRing } from '../../common/api-keys.js';
import { RequiresScope, SpeaksProtocol } from '../../common/auth.guard.js';
import { refusalOfBodyKey } from '../body-key.check.js';
import { writeKeyInBody, type SegmentType } from './segment.decode.js';
import { segmentDialect } from './segment.dialect.js';
import { SegmentService } from './segment.service.js';

/**
 * Segment's HTTP Tracking API (`/v1/batch`, `/v1/track`, `/v1/page`, `/v1/screen`,
 * `/v1/identify`, `/v1/alias`, `/v1/group`) for @segment/analytics-node and analytics.js: the
 * write key is one of Vigil's ingest keys. Documented in README, not in the OpenAPI document.
 */
@ApiExcludeController()
@RequiresScope('ingest')
@SpeaksProtocol(segmentDialect)
@Controller('v1')
export class SegmentController {
  constructor(
    private readonly segment: SegmentService,
    private readonly keys: ApiKeyRing,
  ) {}

  private async take(request: FastifyRequest, reply: FastifyReply, body: unknown, type: SegmentType | undefined): Promise<void> {
    const refusal = refusalOfBodyKey(this.keys, request, writeKeyInBody(body));
    const answer = refusal === null ? await this.segment.receive(body, type) : { status: refusal.status, body: { success: false, message: refusal.message } };
    void reply.code(answer.status).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(answer.body));
  }

  @Post('batch')
  batch(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Body() body: unknown): Promise<void> {
    return this.take(request, reply, body, undefined);
  }

  @Post('track')
  track(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Body() body: unknown): Promise<void> {
    return this.take(request, reply, body, 'track');
  }

  @Post('page')
  page(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Body() body: unknown): Promise<void> {
    return this.take(request, reply, body, 'page');
  }

  @Post('screen')
  screen(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Body() body: unknown): Promise<void> {
    return this.take(request, reply, body, 'screen');
  }

  @Post('identify')
  identify(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Body() body: unknown): Promise<void> {
    return this.take(request, reply, body, 'identify');
  }

  @Post('alias')
  alias(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Body() body: unknown): Promise<void> {
    return this.take(request, reply, body, 'alias');
  }

  @Post('group')
  group(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Body() body: unknown): Promise<void> {
    return this.take(request, reply, body, 'group');
  }
}
