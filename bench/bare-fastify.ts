import Fastify from 'fastify';

/**
 * The baseline: a bare Fastify server that parses the same JSON body and answers
 * 202 with a body of the same shape, and nothing else (no auth, no validation,
 * no storage). Run as its own process so it gets the same treatment as Vigil.
 */
const server = Fastify({ bodyLimit: 5 * 1024 * 1024 });
server.post('/ingest/metrics', async (request, reply) => {
  const metrics = (request.body as { metrics?: unknown[] }).metrics ?? [];
  return reply.code(202).send({ accepted: metrics.length, rejected: 0, errors: [] });
});
const port = Number(process.argv[2] ?? 0);
await server.listen({ port, host: '127.0.0.1' });
process.stdout.write(`listening ${port}\n`);
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
