import { Controller, Get, Header, Inject, Req, UnauthorizedException } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { ApiErrorResponse, ApiServedResponses } from '../common/api-responses.js';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AppConfig } from '../config/app.config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { VigilMetrics } from '../common/vigil.metrics.js';

const digest = (value: string) => createHash('sha256').update(value).digest();

@ApiTags('operations')
@ApiServedResponses({ rateLimited: false })
@Controller('metrics')
export class MetricsController {
  private readonly expected: Buffer | null;

  constructor(
    private readonly metrics: VigilMetrics,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.expected = config.auth.metricsKey ? digest(config.auth.metricsKey) : null;
  }

  @Get()
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  @ApiOperation({ summary: 'Prometheus text exposition of every vigil_* metric' })
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'Prometheus text format 0.0.4', schema: { type: 'string' } })
  @ApiErrorResponse(401, 'VIGIL_METRICS_KEY is set and the bearer token does not match')
  async expose(@Req() request: FastifyRequest): Promise<string> {
    const authorization = request.headers.authorization;
    if (this.expected) {
      const token = /^Bearer\s+(.+)$/i.exec(authorization ?? '')?.[1]?.trim() ?? '';
      if (!timingSafeEqual(digest(token), this.expected)) throw new UnauthorizedException('/metrics requires Authorization: Bearer <VIGIL_METRICS_KEY>');
    }
    return this.metrics.registry.metrics();
  }
}
