import { Counter, Gauge, type Registry } from 'prom-client';

/** Why a connection or request was refused or cut off by the HTTP protections. */
export type RefusalReason =
  | 'connections_per_address'
  | 'body_bytes_in_flight'
  | 'body_timeout'
  | 'body_too_slow'
  | 'request_timeout'
  | 'headers_too_large'
  | 'malformed_request';

/** The HTTP protections' metrics, on the process registry (README, "Limits and protections"). */
export class HttpProtectionMetrics {
  readonly refused: Counter<'reason'>;
  readonly bodyBytesInFlight: Gauge;
  readonly openConnections: Gauge;

  constructor(registry: Registry) {
    this.refused = new Counter({
      name: 'vigil_http_refused_total',
      help: 'Connections and requests refused or cut off by the HTTP protections, by reason',
      labelNames: ['reason'] as const,
      registers: [registry],
    });
    this.bodyBytesInFlight = new Gauge({
      name: 'vigil_http_body_bytes_in_flight',
      help: 'Request body bytes held by requests in flight (bounded by VIGIL_MAX_BODY_BYTES_IN_FLIGHT)',
      registers: [registry],
    });
    this.openConnections = new Gauge({
      name: 'vigil_http_open_connections',
      help: 'Open HTTP connections',
      registers: [registry],
    });
  }
}
