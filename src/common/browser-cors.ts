import cors from '@fastify/cors';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/** Request headers a browser SDK may send (PostHog and Segment send these). */
const ALLOWED_HEADERS = ['content-type', 'authorization', 'content-encoding', 'x-request-id'];

function onBrowserPath(url: string, paths: readonly string[]): boolean {
  const path = url.split('?', 1)[0]!.replace(/\/+$/, '');
  return paths.some((prefix) => path === prefix);
}

/**
 * CORS for the routes browsers call (intake plug-ins' browserPaths: the Segment and PostHog
 * SDKs in web pages), for the origins configured in VIGIL_CORS_ORIGINS (`*`: any). Every other
 * route, and every other origin, gets no CORS headers: a page elsewhere cannot read Vigil's answers
 * or send credentials-bearing requests it could not send as a simple form. Nothing happens when
 * no origin is configured.
 */
export async function installBrowserCors(fastify: FastifyInstance, origins: readonly string[], paths: readonly string[]): Promise<void> {
  if (origins.length === 0 || paths.length === 0) return;
  const anyOrigin = origins.includes('*');
  await fastify.register(cors, {
    hideOptionsRoute: true,
    delegator: (request: FastifyRequest, callback) => {
      const origin = request.headers.origin;
      const allowed = onBrowserPath(request.url, paths) && origin !== undefined && (anyOrigin || origins.includes(origin));
      callback(null, allowed ? { origin: origin, methods: ['POST', 'OPTIONS'], allowedHeaders: ALLOWED_HEADERS, maxAge: 600 } : { origin: false });
    },
  });
}
