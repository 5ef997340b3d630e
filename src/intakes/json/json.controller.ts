import { Body, Controller, HttpCode, Inject, Post, type Type } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { applyDecorators } from '@nestjs/common';
import { ApiJsonBody, ApiServedResponses } from '../../common/api-responses.js';
import { RequiresScope } from '../../common/auth.guard.js';
import type { AppConfig } from '../../config/app.config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { IngestService } from '../../ingest/ingest.service.js';
import { decodeJsonBatch, JSON_ENDPOINTS, jsonAnswer, type JsonEndpoint, type JsonIngestResult } from './json.decode.js';
import {
  AnalyticsBatchDto,
  EventsBatchDto,
  IngestResultDto,
  LogsBatchDto,
  MetricsBatchDto,
  RequestsBatchDto,
} from './json.dto.js';

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
 * The JSON intake: `POST /ingest/<endpoint>` with `{<field>: [...]}`. Bodies are taken as
 * `unknown`: ingest validates item by item (partial acceptance), so no whole-body pipe may
 * reject a batch for one bad item. The class keeps its name: the OpenAPI operation ids
 * (`IngestController_metrics`, …) come from it.
 */
@ApiTags('ingest')
@ApiServedResponses()
@RequiresScope('ingest')
@Controller('ingest')
export class IngestController {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly ingest: IngestService,
  ) {}

  private async take(endpoint: JsonEndpoint, body: unknown): Promise<JsonIngestResult> {
    const rawItems = decodeJsonBatch(endpoint, body, this.config.http.maxBatch);
    const { field, kind } = JSON_ENDPOINTS[endpoint];
    // The parsed body is this request's alone: items already in stored form are kept as they are.
    return jsonAnswer(await this.ingest.ingestItems(kind, rawItems, field, { ownedItems: true }));
  }

  @Post('metrics')
  @IngestEndpointDoc('Ingest metric points', MetricsBatchDto)
  metrics(@Body() body: unknown): Promise<JsonIngestResult> {
    return this.take('metrics', body);
  }

  @Post('events')
  @IngestEndpointDoc('Ingest events', EventsBatchDto)
  events(@Body() body: unknown): Promise<JsonIngestResult> {
    return this.take('events', body);
  }

  @Post('logs')
  @IngestEndpointDoc('Ingest log records', LogsBatchDto)
  logs(@Body() body: unknown): Promise<JsonIngestResult> {
    return this.take('logs', body);
  }

  @Post('requests')
  @IngestEndpointDoc('Ingest finished-request timings', RequestsBatchDto)
  requests(@Body() body: unknown): Promise<JsonIngestResult> {
    return this.take('requests', body);
  }

  @Post('analytics')
  @IngestEndpointDoc('Ingest user analytics events', AnalyticsBatchDto)
  analytics(@Body() body: unknown): Promise<JsonIngestResult> {
    return this.take('analytics', body);
  }
}
