import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The request being served, for every log line written while serving it (pino's
 * mixin reads it). Entered in Fastify's first onRequest hook, so the handler and
 * everything it awaits run inside it.
 */
export const requestContext = new AsyncLocalStorage<{ requestId: string }>();
