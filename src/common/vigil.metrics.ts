import { Injectable } from '@nestjs/common';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The one Prometheus registry of the process, and Vigil's own service metrics.
 * Other modules register their metrics on `registry` (they are all `vigil_*`).
 */
@Injectable()
export class VigilMetrics {
  readonly registry = new Registry();

  readonly httpDuration = new Histogram({
    name: 'vigil_http_request_duration_seconds',
    help: 'Duration of Vigil HTTP requests, by route pattern, method and status class',
    labelNames: ['route', 'method', 'status_class'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  readonly ingestedItems = new Counter({
    name: 'vigil_ingested_items_total',
    help: 'Items received on /ingest/*, by kind and outcome (accepted, rejected)',
    labelNames: ['kind', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly commitDuration = new Histogram({
    name: 'vigil_ingest_commit_duration_seconds',
    help: 'Time to durably commit one group of ingested items',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });

  readonly commitEntries = new Histogram({
    name: 'vigil_ingest_commit_items',
    help: 'Items per group commit (requests arriving together share one commit)',
    buckets: [1, 10, 100, 1000, 5000, 10000, 50000],
    registers: [this.registry],
  });

  constructor() {
    // Process metrics, event-loop lag among them (vigil_nodejs_eventloop_lag_seconds).
    collectDefaultMetrics({ register: this.registry, prefix: 'vigil_' });
  }
}
