import { Module, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { OtlpIntakeService } from './otlp-intake.service.js';
import { encodingOf, invalidAnswer, PROTOBUF_MEDIA_TYPE } from './otlp.answer.js';
import { OtlpController } from './otlp.controller.js';
import { OtlpMetrics } from './otlp.metrics.js';

class UnsupportedMediaTypeError extends Error {
  readonly statusCode = 415;
}

/** The message of Vigil's JSON error body (ErrorBody), or undefined for any other payload. */
function vigilErrorMessage(payload: string): string | undefined {
  if (!payload.startsWith('{"status_code"')) return undefined;
  try {
    const message = (JSON.parse(payload) as { message?: unknown }).message;
    return typeof message === 'string' ? message : undefined;
  } catch {
    return undefined;
  }
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
    // A 400 answered before the controller (malformed JSON, bad gzip) is written in Vigil's error
    // body by the exception filter; on these routes it becomes OTLP's google.rpc.Status.
    fastify.addHook('onSend', (request, reply, payload, done) => {
      if (reply.statusCode !== 400 || typeof payload !== 'string' || !PROTOBUF_ROUTE.test(request.routeOptions.url ?? '')) return done(null, payload);
      const message = vigilErrorMessage(payload);
      if (message === undefined) return done(null, payload);
      const answer = invalidAnswer(encodingOf(request.headers['content-type']), message);
      void reply.header('content-type', answer.contentType);
      done(null, Buffer.isBuffer(answer.body) ? answer.body : JSON.stringify(answer.body));
    });
  }
}
