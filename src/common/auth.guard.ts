import { applyDecorators } from '@nestjs/common';
import { PATH_METADATA } from '@nestjs/common/constants.js';
import { FASTIFY_ROUTE_CONFIG_METADATA } from '@nestjs/platform-fastify/constants.js';
import { ApiBearerAuth, ApiSecurity } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest, preParsingHookHandler } from 'fastify';
import { ApiKeyRing, presentedKey, type Scope } from './api-keys.js';
import { ApiKeyErrorResponses } from './api-responses.js';
import { replyWithError } from './error.filter.js';
import { closeAfterAnswer } from './lingering-close.js';
import { dialectOf, type ProtocolDialect, type RefusalReason } from './protocol-dialect.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The API key scope a route needs (set by RequiresScope); absent on open routes. */
    vigilScope?: Scope;
  }
  interface FastifyRequest {
    /** Hash-derived id of the key that authenticated this request, when one did. */
    apiKeyId?: string;
  }
}

/**
 * Marks a controller or handler as needing an API key of the given scope. The scope goes into
 * the Fastify route's config, where `authenticateFromHeaders` reads it before any body is read.
 * On a controller it marks every route handler that does not name a scope of its own (method
 * decorators run before class decorators, so a handler's own scope is already there).
 */
export function RequiresScope(scope: Scope) {
  const documentation = applyDecorators(
    ApiBearerAuth(),
    ApiSecurity('api-key'),
    ApiKeyErrorResponses(scope),
  );
  return (target: object, propertyKey?: string | symbol, descriptor?: PropertyDescriptor): void => {
    if (descriptor) documentation(target, propertyKey!, descriptor);
    else documentation(target as () => unknown);
    markRoutes(target, descriptor, { vigilScope: scope });
  };
}

/**
 * Marks a controller or handler as speaking `dialect` (see protocol-dialect.ts): its key is read
 * where the protocol carries it and every refusal is worded in the protocol's terms. With
 * `rawBody`, the handler receives the body as a Buffer whatever its Content-Type.
 */
export function SpeaksProtocol(dialect: ProtocolDialect, options: { rawBody?: boolean } = {}) {
  return (target: object, _propertyKey?: string | symbol, descriptor?: PropertyDescriptor): void => {
    markRoutes(target, descriptor, { vigilDialect: dialect, vigilRawBody: options.rawBody === true });
  };
}

type RouteMarks = Partial<Record<'vigilScope' | 'vigilDialect' | 'vigilRawBody', unknown>>;

/**
 * Sets `marks` in the Fastify route config of one handler (a method decorator) or of every
 * handler of a controller that has not set them itself (method decorators run first).
 */
function markRoutes(target: object, descriptor: PropertyDescriptor | undefined, marks: RouteMarks): void {
  if (descriptor) {
    markHandler(descriptor.value as object, marks, true);
    return;
  }
  const prototype = (target as { prototype: Record<string, unknown> }).prototype;
  for (const name of Object.getOwnPropertyNames(prototype)) {
    const handler = prototype[name];
    if (name === 'constructor' || typeof handler !== 'function' || !Reflect.hasMetadata(PATH_METADATA, handler)) continue;
    markHandler(handler, marks, false);
  }
}

function markHandler(handler: object, marks: RouteMarks, overwrite: boolean): void {
  const config = (Reflect.getMetadata(FASTIFY_ROUTE_CONFIG_METADATA, handler) as RouteMarks | undefined) ?? {};
  const merged: RouteMarks = { ...config };
  for (const [name, value] of Object.entries(marks) as Array<[keyof RouteMarks, unknown]>) {
    if (overwrite || merged[name] === undefined) merged[name] = value;
  }
  Reflect.defineMetadata(FASTIFY_ROUTE_CONFIG_METADATA, merged, handler);
}

/**
 * The hook that authenticates every route marked by RequiresScope from its headers alone,
 * before a byte of the body is read: a client without a valid key can make Vigil hold nothing
 * but its headers. A refusal carries `Connection: close` when a body is on its way, so the
 * socket goes with it instead of Vigil reading (and discarding) the rest.
 *
 * It is the first preParsing hook (Fastify reads the body after the preParsing hooks): later
 * than onRequest, so that the rate limiter's route-level onRequest hook has counted the
 * attempt first and guessing keys is limited per address.
 *
 * With no key configured (protected mode, loopback only) every route is open.
 */
export function authenticateFromHeaders(keys: ApiKeyRing): preParsingHookHandler {
  return function authenticate(request, reply, payload, done) {
    const scope = request.routeOptions.config.vigilScope;
    if (scope === undefined || keys.isEmpty) return done(null, payload);
    const dialect = dialectOf(request);
    const key = dialect ? dialect.presentedKey(request) : presentedKey(request.headers);
    // The protocol carries its key in the body: its intake checks it once the body is parsed.
    if (key === undefined) return done(null, payload);
    const hint = dialect ? dialect.keyHint : 'Authorization: Bearer <key> or X-API-Key: <key>';
    if (key === null) return refuse(request, reply, 401, `An API key is required: ${hint}`, 'key_missing');
    const refusal = authorizeKey(keys, request, key, scope);
    if (refusal !== null) return refuse(request, reply, refusal.status, refusal.message, refusal.reason);
    done(null, payload);
  };
}

export interface KeyRefusal { status: 401 | 403; message: string; reason: 'key_unknown' | 'key_scope' }

/**
 * Checks a presented key for `scope`: null when it may (and the request then carries the key's
 * id), else the refusal. Also for intakes whose protocol carries the key where the headers hook
 * cannot see it (the body, or a query string the intake allows).
 */
export function authorizeKey(keys: ApiKeyRing, request: FastifyRequest, key: string, scope: Scope): KeyRefusal | null {
  if (keys.isEmpty) return null;
  const resolved = keys.resolveOn(request.raw.socket, key);
  if (resolved === null) return { status: 401, message: 'Unknown API key', reason: 'key_unknown' };
  request.apiKeyId = resolved.id;
  if (!resolved.scopes.has(scope)) return { status: 403, message: `This API key lacks the ${scope} scope`, reason: 'key_scope' };
  return null;
}

function refuse(request: FastifyRequest, reply: FastifyReply, status: 401 | 403, message: string, reason: RefusalReason): void {
  if (hasBody(request)) closeAfterAnswer(request, reply);
  replyWithError(reply, status, message, reason);
}

/** The key a request presents on its route: in its protocol's place, else Bearer or X-API-Key. */
export function keyPresentedOnRoute(request: FastifyRequest): string | null {
  const dialect = dialectOf(request);
  return (dialect ? dialect.presentedKey(request) : presentedKey(request.headers)) ?? null;
}

/** True when the request announces a body (a length above zero, or chunked transfer). */
export function hasBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  return (length !== undefined && length !== '0') || request.headers['transfer-encoding'] !== undefined;
}
