import rateLimit from '@fastify/rate-limit';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { AppModule, type AppOverrides } from './app.module.js';
import { ApiKeyRing } from './common/api-keys.js';
import { authenticateFromHeaders, keyPresentedOnRoute } from './common/auth.guard.js';
import { installBrowserCors } from './common/browser-cors.js';
import { HttpProtections } from './common/http-protections.js';
import { Clock } from './common/clock.js';
import { HttpObservers } from './common/http-observers.js';
import { ServedRequestLog } from './common/served-request.log.js';
import { requestContext } from './common/request-context.js';
import { AllExceptionsFilter, replyWithError } from './common/error.filter.js';
import { parseOtherMediaType } from './common/raw-body.js';
import { requestIdFor } from './common/request-id.js';
import { VigilLogger } from './common/vigil-logger.js';
import type { AppConfig } from './config/app.config.js';
import { INTAKE_PLUGINS } from './intakes/intakes.list.js';
import { Lifecycle } from './health/health-checks.js';
import { VigilMetrics } from './common/vigil.metrics.js';
import { DerivedStateRunner } from './ingest-log/log-consumers.js';

/** Seconds a client refused during shutdown is asked to wait. */
const DRAINING_RETRY_AFTER_SECONDS = 5;

/**
 * Builds the whole Vigil application on Fastify, initialised but not listening:
 * main.ts listens on it, tests use it over HTTP on an ephemeral port.
 */
export async function createVigilApp(config: AppConfig, overrides: AppOverrides = {}): Promise<NestFastifyApplication> {
  const protections = new HttpProtections(config);
  const adapter = new FastifyAdapter({
    ...protections.fastifyOptions(),
    // Path parameters are user ids (up to 128 characters, any of which may arrive
    // percent-encoded as up to 12) and service names; Fastify's default of 100
    // would answer 414 to a valid id, which could then never be erased.
    // ignoreTrailingSlash: PostHog's SDKs post to `/batch/`, `/e/`; Nest drops a route's trailing slash.
    routerOptions: { maxParamLength: 2048, ignoreTrailingSlash: true },
    // Applies to the decompressed stream too: a gzip body is limited after expansion.
    bodyLimit: config.http.maxBodyBytes,
    genReqId: requestIdFor,
    onProtoPoisoning: 'remove',
    onConstructorPoisoning: 'remove',
    // While draining, the onRequest hook below answers 503 itself, with Retry-After
    // and the error body of every other error.
    return503OnClosing: false,
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, overrides), adapter, {
    bufferLogs: true,
    // Vigil's own JSON parser (below) is the only one: Nest's would add form bodies too.
    bodyParser: false,
    abortOnError: false,
  });
  const logger = app.get(VigilLogger);
  app.useLogger(logger);
  app.useGlobalFilters(new AllExceptionsFilter());
  const fastify = app.getHttpAdapter().getInstance();
  // JSON only, except on routes of an intake that reads its body raw (SpeaksProtocol rawBody):
  // any other media type answers 415. An empty JSON body is no body (a DELETE or a replay POST
  // sent with Content-Type: application/json and nothing after it), not an error. A raw route
  // gets the text of a JSON body as it came, and the bytes of any other (see RawRequestBody).
  fastify.removeContentTypeParser(['text/plain', 'application/json']);
  const parseJson = fastify.getDefaultJsonParser('remove', 'remove');
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (request.routeOptions.config.vigilRawBody) done(null, body);
    else if (body.length === 0) done(null, undefined);
    else void parseJson(request, body as string, done);
  });
  fastify.addContentTypeParser('*', parseOtherMediaType(config.http.maxBodyBytes));

  const lifecycle = app.get(Lifecycle);
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    // From SIGTERM on, only health checks are served (readiness reports the drain);
    // anything else is refused before its body is read, to be retried elsewhere.
    if (lifecycle.isDraining && !request.url.startsWith('/health/')) {
      void reply.header('retry-after', String(DRAINING_RETRY_AFTER_SECONDS));
      replyWithError(reply, 503, 'Vigil is shutting down; retry on another replica or shortly');
      return;
    }
    // done() runs the rest of the request lifecycle inside the context.
    requestContext.run({ requestId: String(request.id) }, done);
  });

  const metrics = app.get(VigilMetrics);
  // Hooks on every request take callbacks rather than being async: each promise costs
  // its allocation plus the async-context hooks that AsyncLocalStorage installs.
  // Connection caps (onRequest), then authentication from the headers (the first preParsing
  // hook), then the bounds on bodies (the next one).
  protections.install(fastify, metrics.registry, authenticateFromHeaders(app.get(ApiKeyRing)));
  const httpObservers = app.get(HttpObservers);
  const clock = app.get(Clock);
  const requestLog = new ServedRequestLog(logger.pino);
  fastify.addHook('onClose', (_instance, done) => {
    requestLog.flush();
    done();
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpDuration.observe(
      { route, method: request.method, status_class: `${Math.floor(reply.statusCode / 100)}xx` },
      reply.elapsedTime / 1000,
    );
    httpObservers.notify({ route, method: request.method, statusCode: reply.statusCode, durationMs: reply.elapsedTime, finishedAt: clock.now() });
    requestLog.record({ requestId: String(request.id), method: request.method, route, statusCode: reply.statusCode, durationMs: reply.elapsedTime });
    done();
  });

  await installBrowserCors(fastify, config.http.corsOrigins, INTAKE_PLUGINS.flatMap((plugin) => plugin.browserPaths ?? []));

  const keyRing = app.get(ApiKeyRing);
  if (config.rateLimit.maxPerWindow > 0) {
    await app.register(rateLimit, {
      global: true,
      max: config.rateLimit.maxPerWindow,
      timeWindow: config.rateLimit.windowSeconds * 1000,
      // One bucket per configured API key (by its id, never the key), else per client
      // address: an unknown key shares its address's bucket, so inventing keys gains nothing.
      keyGenerator: (request) => {
        const key = keyPresentedOnRoute(request);
        const known = key === null ? null : keyRing.resolveOn(request.raw.socket, key);
        return known ? `key:${known.id}` : `ip:${request.ip}`;
      },
      allowList: (request) => request.url.startsWith('/health') || request.url === '/metrics',
      errorResponseBuilder: (_request, context) =>
        Object.assign(new Error(`Rate limit of ${context.max} requests per ${config.rateLimit.windowSeconds}s exceeded; retry in ${Math.ceil(context.ttl / 1000)}s`), {
          statusCode: 429,
        }),
    });
  }

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Vigil')
      .setDescription('Observability microservice: ingest, durable forwarding, SLA, anomalies, user analytics, Prometheus.')
      .setVersion('1')
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'An API key' })
      .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key' }, 'api-key')
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });

  await app.init();
  app.get(DerivedStateRunner).start();
  return app;
}
