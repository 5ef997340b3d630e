import { Module, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { OtlpIntakeService } from './otlp-intake.service.js';
import { PROTOBUF_MEDIA_TYPE } from './otlp.answer.js';
import { OtlpController } from './otlp.controller.js';
import { OtlpMetrics } from './otlp.metrics.js';

class UnsupportedMediaTypeError extends Error {
  readonly statusCode = 415;
}

/** The routes that take protobuf; any other route still answers 415 to it. */
const PROTOBUF_ROUTE = /^\/v1\/(traces|metrics|logs)$/;

/**
 * The OTLP/HTTP intake. It adds the `application/x-protobuf` body parser to the Fastify
 * instance: the body arrives as one Buffer, read after the body protections (auth from the
 * headers, the in-flight bound, gunzip, the body limit applied to the decompressed bytes), as
 * every JSON body is.
 */
@Module({ controllers: [OtlpController], providers: [OtlpIntakeService, OtlpMetrics] })
export class OtlpIntakeModule implements OnModuleInit {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    fastify.addContentTypeParser(PROTOBUF_MEDIA_TYPE, { parseAs: 'buffer' }, (request, body, done) => {
      if (!PROTOBUF_ROUTE.test(request.routeOptions.url ?? '')) done(new UnsupportedMediaTypeError(`Unsupported Media Type: ${PROTOBUF_MEDIA_TYPE}`), undefined);
      else done(null, body.length === 0 ? undefined : body);
    });
  }
}
