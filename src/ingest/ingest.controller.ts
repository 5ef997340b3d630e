import { Body, Controller, HttpCode, Post, type Type } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { applyDecorators } from '@nestjs/common';
import { ApiJsonBody, ApiServedResponses } from '../common/api-responses.js';
import { RequiresScope } from '../common/auth.guard.js';
import {
  AnalyticsBatchDto,
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
    ApiJsonBody({
      type: body,
      invalid: 'Not a batch of that shape, or every item invalid',
      tooLarge: 'more items than VIGIL_MAX_BATCH',
      unavailable: 'A delivery queue is full, or ingest commits are failing',
    }),
    ApiAcceptedResponse({ type: IngestResultDto, description: 'Valid items were durably stored; invalid ones are listed' }),
  );
}

/**
 * Bodies are taken as `unknown`: the service validates item by item (partial
 * acceptance), so no whole-body pipe may reject a batch for one bad item.
 */
@ApiTags('ingest')
@ApiServedResponses()
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
