import type { FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';

/**
 * The body a raw route's handler receives (SpeaksProtocol rawBody): the text of an
 * `application/json` body as it came (Fastify reads JSON as text anyway; JSON decoders want
 * text), the bytes of any other media type, undefined when there is no body. Compression is
 * already undone and the body limit applied to what it yielded.
 */
export type RawRequestBody = string | Buffer | undefined;

type Done = (error: Error | null, body?: unknown) => void;

/**
 * The content-type parser for media types other than JSON: raw routes get the bytes; every
 * other route refuses with 415 at once, before reading a byte (a client cannot make Vigil hold
 * a body it will not take). Reads at most `maxBodyBytes`, then answers 413 as Fastify does.
 */
export function parseOtherMediaType(maxBodyBytes: number) {
  return (request: FastifyRequest, payload: Readable, done: Done): void => {
    if (!request.routeOptions.config.vigilRawBody) {
      done(Object.assign(new Error(`Unsupported Media Type: ${request.headers['content-type'] ?? 'none'}; send application/json`), { statusCode: 415 }));
      return;
    }
    const chunks: Buffer[] = [];
    let length = 0;
    let finished = false;
    const finish = (error: Error | null, body?: Buffer): void => {
      if (finished) return;
      finished = true;
      payload.removeAllListeners('data');
      done(error, body);
    };
    payload.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length > maxBodyBytes) {
        payload.pause();
        finish(Object.assign(new Error('Request body is too large'), { statusCode: 413 }));
        return;
      }
      chunks.push(chunk);
    });
    payload.on('error', (error) => finish(error));
    payload.on('end', () => finish(null, length === 0 ? undefined : Buffer.concat(chunks, length)));
  };
}
