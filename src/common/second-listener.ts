import type { Server } from 'node:http';
import { createServer, type Server as NetServer } from 'node:net';

/**
 * Listens on another port for the same HTTP server (VIGIL_OTLP_PORT): each connection accepted
 * there is handed to `server` as if it had accepted it, so every route, hook, timeout and
 * protection (connection caps, body bounds) applies unchanged. Closed with `server`.
 */
export async function listenAlso(server: Server, port: number, host: string): Promise<NetServer> {
  const listener = createServer({ pauseOnConnect: false }, (socket) => server.emit('connection', socket));
  server.once('close', () => listener.close());
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(port, host, () => {
      listener.off('error', reject);
      resolve();
    });
  });
  return listener;
}
