import { Module, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { dialectOf } from '../../common/protocol-dialect.js';
import { OtlpIntakeService } from './otlp-intake.service.js';
import { otlpDialect, PROTOBUF_MEDIA_TYPE } from './otlp.dialect.js';
import { OtlpController } from './otlp.controller.js';
import { OtlpMetrics } from './otlp.metrics.js';

class UnsupportedMediaTypeError extends Error {
  readonly statusCode = 415;
}

/**
 * The OTLP/HTTP intake. It adds the `application/x-protobuf` body parser to the Fastify
 * instance: the body arrives as one Buffer, read after the body protections (auth from the
 * headers, the in-flight bound, decompression, the body limit applied to the decompressed
 * bytes), as every JSON body is. Raw routes (SpeaksProtocol rawBody) get the bytes too; any other
 * route answers 415 to protobuf. Its error
 * answers are otlpDialect's (the controller's SpeaksProtocol).
 */
@Module({ controllers: [OtlpController], providers: [OtlpIntakeService, OtlpMetrics] })
export class OtlpIntakeModule implements OnModuleInit {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    fastify.addContentTypeParser(PROTOBUF_MEDIA_TYPE, { parseAs: 'buffer' }, (request, body, done) => {
      if (dialectOf(request) !== otlpDialect && request.routeOptions.config.vigilRawBody !== true) done(new UnsupportedMediaTypeError(`Unsupported Media Type: ${PROTOBUF_MEDIA_TYPE}`), undefined);
      else done(null, body.length === 0 ? undefined : body);
    });
  }
}
