import { Body, Controller, HttpCode, Post, type Type } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiBody,
  ApiOperation,
  ApiPayloadTooLargeResponse,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnsupportedMediaTypeResponse,
} from '@nestjs/swagger';
import { applyDecorators } from '@nestjs/common';
import { RequiresScope } from '../common/auth.guard.js';
import {
  AnalyticsBatchDto,
  ErrorDto,
  EventsBatchDto,
  IngestResultDto,
  LogsBatchDto,
  MetricsBatchDto,
  RequestsBatchDto,
} from './ingest.dto.js';
import { IngestService } from './ingest.service.js';
import type { IngestResult } from './ingest.types.js';

function IngestEndpointDoc(summary: string, body: Type<unknown>) {
  return applyDecorators(
    HttpCode(202),
    ApiOperation({ summary }),
    ApiBody({ type: body }),
    ApiAcceptedResponse({ type: IngestResultDto, description: 'Valid items were durably stored; invalid ones are listed' }),
    ApiBadRequestResponse({ type: ErrorDto, description: 'Not a batch of that shape, or every item invalid' }),
    ApiPayloadTooLargeResponse({ type: ErrorDto, description: 'Body (after gzip expansion) or item count over the limit' }),
    ApiUnsupportedMediaTypeResponse({ type: ErrorDto }),
    ApiTooManyRequestsResponse({ type: ErrorDto, description: 'Over the per-key rate limit; see Retry-After' }),
    ApiServiceUnavailableResponse({ type: ErrorDto, description: 'A delivery queue is full, or shutting down; see Retry-After' }),
  );
}

/**
 * Bodies are taken as `unknown`: the service validates item by item (partial
 * acceptance), so no whole-body pipe may reject a batch for one bad item.
 */
@ApiTags('ingest')
@RequiresScope('ingest')
@Controller('ingest')
export class IngestController {
  constructor(private readonly ingest: IngestService) {}

  @Post('metrics')
  @IngestEndpointDoc('Ingest metric points', MetricsBatchDto)
  metrics(@Body() body: unknown): Promise<IngestResult> {
    return this.ingest.ingest('metrics', body);
  }

  @Post('events')
  @IngestEndpointDoc('Ingest events', EventsBatchDto)
  events(@Body() body: unknown): Promise<IngestResult> {
    return this.ingest.ingest('events', body);
  }

  @Post('logs')
  @IngestEndpointDoc('Ingest log records', LogsBatchDto)
  logs(@Body() body: unknown): Promise<IngestResult> {
    return this.ingest.ingest('logs', body);
  }

  @Post('requests')
  @IngestEndpointDoc('Ingest finished-request timings', RequestsBatchDto)
  requests(@Body() body: unknown): Promise<IngestResult> {
    return this.ingest.ingest('requests', body);
  }

  @Post('analytics')
  @IngestEndpointDoc('Ingest user analytics events', AnalyticsBatchDto)
  analytics(@Body() body: unknown): Promise<IngestResult> {
    return this.ingest.ingest('analytics', body);
  }
}
