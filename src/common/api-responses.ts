import { applyDecorators, type Type } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiExtraModels, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { ErrorDto } from './error.dto.js';

/**
 * The error answers of Vigil's routes in the OpenAPI document, shared so that every route
 * declares the same ones the same way. An error answer is always Vigil's JSON error body
 * (ErrorDto), also on routes whose success is text (/metrics, /sla/report): its content is
 * given whole, so that a route's @ApiProduces never relabels it.
 */

/** Vigil's error body as the answer with this status. Method or controller. */
export function ApiErrorResponse(status: number, description: string) {
  return applyDecorators(
    ApiExtraModels(ErrorDto),
    ApiResponse({ status, description, content: { 'application/json': { schema: { $ref: getSchemaPath(ErrorDto) } } } }),
  );
}

/** A bad parameter (query or path): the message names it. */
export const ApiBadParameterResponse = (description = 'A parameter is invalid; the message names it') => ApiErrorResponse(400, description);

/** The refusals of a route that needs an API key (RequiresScope adds them). */
export function ApiKeyErrorResponses(scope: string) {
  return applyDecorators(
    ApiErrorResponse(401, 'Missing or unknown API key'),
    ApiErrorResponse(403, `The API key lacks the ${scope} scope`),
  );
}

const SHUTTING_DOWN = 'Vigil is shutting down, or this address has too many open connections; see Retry-After';

/**
 * The answers any route but the health checks may give, whatever it does (README, "Limits and
 * protections"): 503 while draining or over the per-address connection cap, and 429 over the
 * rate limit when one is configured (/metrics is not rate limited). On the controller.
 */
export function ApiServedResponses(options: { rateLimited: boolean } = { rateLimited: true }) {
  return applyDecorators(
    ApiErrorResponse(503, SHUTTING_DOWN),
    ...(options.rateLimited ? [ApiErrorResponse(429, 'Over the rate limit (VIGIL_RATE_LIMIT_MAX per window, per key or address); see Retry-After')] : []),
  );
}

export interface JsonBodyDoc {
  /** The body's schema. */
  type: Type<unknown>;
  /** False when the body may be left out. */
  required?: boolean;
  /** When the body's content answers 400 (malformed JSON answers 400 too). */
  invalid: string;
  /** What else answers 503 on this route, besides the body bound, draining and the connection cap. */
  unavailable?: string;
  /** What else answers 413 on this route, besides the body limit. */
  tooLarge?: string;
}

/**
 * A route that takes a JSON body: application/json only (gzip allowed), and the refusals of
 * the body protections (src/common/request-body.admission.ts, src/app.factory.ts).
 */
export function ApiJsonBody({ type, required = true, invalid, unavailable, tooLarge }: JsonBodyDoc) {
  return applyDecorators(
    ApiConsumes('application/json'),
    ApiBody({ type, required }),
    ApiErrorResponse(400, `${invalid}; or the body is not valid JSON (or not valid gzip)`),
    ApiErrorResponse(408, 'The body did not arrive in time, or arrived slower than the minimum rate; the connection is closed'),
    ApiErrorResponse(413, `The body (after gzip expansion) is over VIGIL_MAX_BODY_BYTES${tooLarge ? `, or ${tooLarge}` : ''}`),
    ApiErrorResponse(415, 'Not Content-Type: application/json, or a Content-Encoding other than gzip'),
    ApiErrorResponse(
      503,
      `${unavailable ? `${unavailable}, or ` : ''}Vigil holds as many request bodies as it may, is shutting down, or this address has too many open connections; see Retry-After`,
    ),
  );
}
