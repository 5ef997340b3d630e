/** The part of a pino logger the served-request log writes to. */
export interface RequestLogSink {
  isLevelEnabled(level: string): boolean;
  debug(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** A request Vigil answered, as its log line tells it. */
export interface AnsweredRequest {
  requestId: string;
  method: string;
  route: string;
  statusCode: number;
  durationMs: number;
}

interface Group {
  first: AnsweredRequest;
  count: number;
}

/** Distinct (status, method, route) groups held between two writes; more are counted under one group. */
const MAX_GROUPS = 50;
const OVERFLOW_ROUTE = 'other routes';

/**
 * Vigil's log of the requests it answers. A success is one debug line (off by default: ingest
 * volume would drown the log). A failure (4xx at warn, 5xx at error) is written at once when
 * none was written in the last `intervalMs`; failures within that interval are counted per
 * status, method and route and written as one line per group when it ends, with the first
 * request's id. A flood of refused requests (an attacker without a key, a client in a retry
 * loop) therefore costs a counter increment each, not a log write, and yields a few lines per
 * interval however fast it comes; `vigil_http_request_duration_seconds` counts every one.
 */
export class ServedRequestLog {
  private readonly pending = new Map<string, Group>();
  private cooling: NodeJS.Timeout | null = null;

  constructor(
    private readonly sink: RequestLogSink,
    private readonly intervalMs = 10_000,
  ) {}

  record(request: AnsweredRequest): void {
    if (request.statusCode < 400) {
      if (this.sink.isLevelEnabled('debug')) this.sink.debug(fieldsOf(request, 1), 'request completed');
      return;
    }
    if (!this.sink.isLevelEnabled(request.statusCode >= 500 ? 'error' : 'warn')) return;
    if (this.cooling === null) {
      this.write({ first: request, count: 1 });
      this.startCooling();
      return;
    }
    let key = `${request.statusCode} ${request.method} ${request.route}`;
    if (!this.pending.has(key) && this.pending.size >= MAX_GROUPS) key = `${request.statusCode} ${OVERFLOW_ROUTE}`;
    const group = this.pending.get(key);
    if (group) group.count++;
    else this.pending.set(key, { first: key.endsWith(OVERFLOW_ROUTE) ? { ...request, route: OVERFLOW_ROUTE } : request, count: 1 });
  }

  /** Writes what is pending now (at shutdown); later failures are written at once again. */
  flush(): void {
    if (this.cooling !== null) clearTimeout(this.cooling);
    this.cooling = null;
    for (const group of this.pending.values()) this.write(group);
    this.pending.clear();
  }

  private startCooling(): void {
    this.cooling = setTimeout(() => {
      this.cooling = null;
      if (this.pending.size === 0) return;
      for (const group of this.pending.values()) this.write(group);
      this.pending.clear();
      this.startCooling();
    }, this.intervalMs);
    this.cooling.unref();
  }

  private write({ first, count }: Group): void {
    const message = count === 1 ? 'request completed' : `${count} requests completed with status ${first.statusCode}`;
    if (first.statusCode >= 500) this.sink.error(fieldsOf(first, count), message);
    else this.sink.warn(fieldsOf(first, count), message);
  }
}

function fieldsOf(request: AnsweredRequest, count: number): object {
  const fields = {
    request_id: request.requestId,
    method: request.method,
    route: request.route,
    status_code: request.statusCode,
    duration_ms: Math.round(request.durationMs * 100) / 100,
  };
  return count === 1 ? fields : { ...fields, count };
}
