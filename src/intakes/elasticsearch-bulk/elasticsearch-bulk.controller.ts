import { Body, Controller, Get, Param, Post, Put, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { RequiresScope, SpeaksProtocol } from '../../common/auth.guard.js';
import type { RawRequestBody } from '../../common/raw-body.js';
import { BulkBodyError } from './elasticsearch-bulk.decode.js';
import { elasticsearchDialect, elasticsearchError, PRODUCT_HEADERS } from './elasticsearch-bulk.dialect.js';
import { bulkAnswerJson, ElasticsearchBulkService } from './elasticsearch-bulk.service.js';

const VERSION = '8.17.0';

/** `GET /`: what an 8.x node says of itself (clients and Filebeat check the version). */
const INFO = {
  name: 'vigil',
  cluster_name: 'vigil',
  cluster_uuid: 'vigil-elasticsearch-bulk-intake',
  version: {
    number: VERSION,
    build_flavor: 'default',
    build_type: 'vigil',
    build_hash: 'vigil',
    build_date: '2024-12-11T12:08:05.663969764Z',
    build_snapshot: false,
    lucene_version: '9.12.0',
    minimum_wire_compatibility_version: '7.17.0',
    minimum_index_compatibility_version: '7.0.0',
  },
  tagline: 'You Know, for Search',
};

/** `GET /_license`: an active basic license (Beats refuse a cluster without one). */
const LICENSE = {
  license: {
    status: 'active',
    uid: 'vigil',
    type: 'basic',
    issue_date: '2024-01-01T00:00:00.000Z',
    issue_date_in_millis: 1704067200000,
    max_nodes: 1000,
    max_resource_units: null,
    issued_to: 'vigil',
    issuer: 'elasticsearch',
    start_date_in_millis: -1,
  },
};

function answer(reply: FastifyReply, status: number, body: unknown): void {
  void reply.code(status).headers(PRODUCT_HEADERS).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(body));
}

/**
 * The part of Elasticsearch's REST API that log shippers use to write (the official client's
 * bulk helper, pino-elasticsearch, Filebeat-style shippers): `_bulk` with NDJSON, the info and
 * license a client checks, and `_refresh` after a flush as a no-op (Vigil keeps no indices: the
 * `_index` is kept on each log). Credentials as Elasticsearch takes them
 * (ApiKey or Basic, the key being one of Vigil's ingest keys); every answer carries
 * `X-Elastic-Product: Elasticsearch`. Documented in README, not in the OpenAPI document.
 */
@ApiExcludeController()
@RequiresScope('ingest')
@SpeaksProtocol(elasticsearchDialect, { rawBody: true })
@Controller()
export class ElasticsearchBulkController {
  constructor(private readonly elasticsearch: ElasticsearchBulkService) {}

  /** Also `HEAD /`, the clients' ping: Fastify answers HEAD from the GET route, headers included. */
  @Get()
  info(@Res() reply: FastifyReply): void {
    answer(reply, 200, INFO);
  }

  @Get('_license')
  license(@Res() reply: FastifyReply): void {
    answer(reply, 200, LICENSE);
  }

  @Post('_bulk')
  bulk(@Body() body: RawRequestBody, @Res() reply: FastifyReply): Promise<void> {
    return this.takeBulk(body, undefined, reply);
  }

  @Put('_bulk')
  bulkByPut(@Body() body: RawRequestBody, @Res() reply: FastifyReply): Promise<void> {
    return this.takeBulk(body, undefined, reply);
  }

  @Post(':index/_bulk')
  indexBulk(@Param('index') index: string, @Body() body: RawRequestBody, @Res() reply: FastifyReply): Promise<void> {
    return this.takeBulk(body, index, reply);
  }

  @Put(':index/_bulk')
  indexBulkByPut(@Param('index') index: string, @Body() body: RawRequestBody, @Res() reply: FastifyReply): Promise<void> {
    return this.takeBulk(body, index, reply);
  }

  @Post(':index/_refresh')
  refresh(@Res() reply: FastifyReply): void {
    answer(reply, 200, { _shards: { total: 1, successful: 1, failed: 0 } });
  }

  @Get(':index/_refresh')
  refreshByGet(@Res() reply: FastifyReply): void {
    answer(reply, 200, { _shards: { total: 1, successful: 1, failed: 0 } });
  }

  private async takeBulk(body: RawRequestBody, index: string | undefined, reply: FastifyReply): Promise<void> {
    const text = body === undefined ? '' : body.toString();
    if (text.trim().length === 0) {
      this.refuse(reply, 'action_request_validation_exception', 'Validation Failed: 1: no requests added;');
      return;
    }
    try {
      const result = await this.elasticsearch.bulk(text, index);
      void reply.code(200).headers(PRODUCT_HEADERS).header('content-type', 'application/json; charset=utf-8').send(bulkAnswerJson(result));
    } catch (error) {
      if (!(error instanceof BulkBodyError)) throw error;
      this.refuse(reply, 'x_content_parse_exception', error.message);
    }
  }

  private refuse(reply: FastifyReply, type: string, reason: string): void {
    const refusal = elasticsearchError(400, type, reason);
    void reply.code(400).headers(refusal.headers ?? {}).header('content-type', refusal.contentType).send(refusal.body);
  }
}
