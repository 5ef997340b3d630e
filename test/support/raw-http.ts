import { connect, type Socket } from 'node:net';

/** An HTTP/1.1 answer read off a raw socket. */
export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Milliseconds from connecting to the end of the answer's headers. */
  afterMs: number;
}

/** A raw TCP connection to Vigil, for requests no HTTP client would send (slow, partial, oversized). */
export class RawConnection {
  readonly socket: Socket;
  private received = '';
  private readonly openedAt = Date.now();
  private headersAt: number | undefined;
  readonly closed: Promise<void>;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      this.received += chunk;
      if (this.headersAt === undefined && this.received.includes('\r\n\r\n')) this.headersAt = Date.now();
    });
    // Writes after Vigil closed the connection fail; that is what some tests provoke.
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  static async open(url: string): Promise<RawConnection> {
    const { hostname, port } = new URL(url);
    const socket = connect({ host: hostname, port: Number(port) });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawConnection(socket);
  }

  /** Writes unless the socket is gone; true when written. */
  write(data: string | Buffer): boolean {
    if (this.socket.destroyed || !this.socket.writable) return false;
    this.socket.write(data);
    return true;
  }

  /** The next complete answer on the connection (taken off it), waiting at most `timeoutMs`. */
  async answer(timeoutMs = 10_000): Promise<RawAnswer> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const parsed = this.parse();
      if (parsed) return parsed;
      if (Date.now() > deadline) throw new Error(`no complete answer within ${timeoutMs} ms; received: ${JSON.stringify(this.received.slice(0, 500))}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  get isClosed(): boolean {
    return this.socket.destroyed || this.socket.readableEnded;
  }

  close(): void {
    this.socket.destroy();
  }

  private parse(): RawAnswer | null {
    const end = this.received.indexOf('\r\n\r\n');
    if (end < 0) return null;
    const [statusLine, ...lines] = this.received.slice(0, end).split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = Number(headers['content-length'] ?? 0);
    const body = Buffer.from(this.received.slice(end + 4), 'latin1');
    if (body.length < length) return null;
    // Latin-1 holds one character per byte: the answer's characters are its bytes.
    this.received = this.received.slice(end + 4 + length);
    return {
      status: Number(statusLine!.split(' ')[1]),
      headers,
      body: body.subarray(0, length).toString('utf8'),
      afterMs: (this.headersAt ?? Date.now()) - this.openedAt,
    };
  }
}

/** The request line and headers of a POST whose body the caller sends (or not) afterwards. */
export function postHead(path: string, headers: Record<string, string | number>): string {
  const lines = Object.entries({ host: 'vigil', 'content-type': 'application/json', ...headers }).map(([name, value]) => `${name}: ${value}`);
  return `POST ${path} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`;
}
