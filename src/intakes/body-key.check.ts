import type { FastifyRequest } from 'fastify';
import type { ApiKeyRing } from '../common/api-keys.js';
import { authorizeKey, type KeyRefusal } from '../common/auth.guard.js';

/**
 * For intakes whose protocol may carry the key in the body (Segment's `writeKey`, PostHog's
 * `api_key`): when the headers hook did not authenticate the request (its dialect said the key is
 * elsewhere), checks the key found in the body for the ingest scope. Null: it may go on.
 */
export function refusalOfBodyKey(keys: ApiKeyRing, request: FastifyRequest, bodyKey: string | undefined): KeyRefusal | { status: 401; message: string; reason: 'key_missing' } | null {
  if (request.apiKeyId !== undefined || keys.isEmpty) return null;
  if (bodyKey === undefined) return { status: 401, message: 'An API key is required', reason: 'key_missing' };
  return authorizeKey(keys, request, bodyKey, 'ingest');
}
