import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Socket } from 'node:net';

/** How long a closing connection keeps reading what its client still sends after the answer. */
export const LINGER_MS = 1000;
/** How much of it, at most: a client that floods the closing connection is reset sooner. */
export const LINGER_MAX_BYTES = 64 * 1024;
const LINGER_CHECK_MS = 50;

const lingering = new WeakSet<Socket>();

/**
 * Marks a refused request's connection to close after its answer, without losing the answer.
 *
 * A refusal that leaves the request body unread (401 before the body, 408 for a body too slow,
 * 503 over the bound) must close the connection. Node's HTTP server then destroys the socket as
 * soon as the answer is written; the client is often still sending its body, and each byte that
 * arrives at a closed socket is answered with a TCP reset, on which the client's kernel drops
 * whatever it had received and not yet read: the client sees a reset instead of its 408 (seen on
 * a loaded machine). So, as nginx's lingering_close and Go's server do, the socket sends its FIN
 * after the answer, keeps reading and dropping what still arrives, and is destroyed when the
 * client closes, after LINGER_MS, or once LINGER_MAX_BYTES more have arrived, whichever comes
 * first: an unauthenticated client cannot make Vigil read much on its behalf.
 */
export function closeAfterAnswer(request: FastifyRequest, reply: FastifyReply): void {
  void reply.header('connection', 'close');
  lingerOnClose(request.raw.socket);
}

/** closeAfterAnswer() for an answer that sets `Connection: close` itself (an error's headers). */
export function lingerOnClose(socket: Socket | null | undefined): void {
  if (!socket || lingering.has(socket)) return;
  lingering.add(socket);
  // destroySoon is what Node's HTTP server calls on the socket once the last answer is written.
  socket.destroySoon = function lingerThenDestroy(this: Socket) {
    this.end();
    this.resume();
    const bytesAtAnswer = this.bytesRead;
    const closeBy = performance.now() + LINGER_MS;
    const check = setInterval(() => {
      if (this.destroyed || performance.now() >= closeBy || this.bytesRead - bytesAtAnswer > LINGER_MAX_BYTES) {
        clearInterval(check);
        this.destroy();
      }
    }, LINGER_CHECK_MS).unref();
  };
}
