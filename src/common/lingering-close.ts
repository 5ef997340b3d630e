import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Socket } from 'node:net';

/** How long a closing connection keeps reading what its client still sends after the answer. */
export const LINGER_MS = 2000;

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
 * client closes or after LINGER_MS, whichever comes first.
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
    setTimeout(() => this.destroy(), LINGER_MS).unref();
  };
}
