import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram } from 'prom-client';
import type { RequestItem } from '../ingest-log/ingest-log.items.js';
import { VigilMetrics } from '../common/vigil.metrics.js';
import type { OwnRequestsRecorder } from './own-requests.recorder.js';
import type { SlaStatuses } from './sla.service.js';

/** Services with their own label value; further ones are counted under OVERFLOW_SERVICE. */
export const MAX_LABELLED_SERVICES = 200;
export const OVERFLOW_SERVICE = '_other';

type Outcome = 'success' | 'failure';

/**
 * The SLA module's Prometheus metrics. The vigil_sla_* gauges are computed on
 * scrape from the monitor's last evaluation (no query per scrape; every replica
 * exports the same values, read from the shared store: aggregate with max). The
 * request histogram and counter count the records this replica committed
 * (Prometheus semantics: sum over replicas). Service labels are bounded.
 */
@Injectable()
export class SlaMetrics {
  private readonly requestDuration: Histogram<'service' | 'outcome'>;
  private readonly requests: Counter<'service' | 'outcome'>;
  private readonly children = new Map<string, { duration: Histogram.Internal<'service' | 'outcome'>; count: Counter.Internal }>();
  private labelledServices = new Set<string>();

  constructor(private readonly metrics: VigilMetrics) {
    const registers = [metrics.registry];
    this.requestDuration = new Histogram({
      name: 'vigil_service_request_duration_seconds',
      help: `Duration of requests reported to /ingest/requests, by service (at most ${MAX_LABELLED_SERVICES}, then "${OVERFLOW_SERVICE}") and outcome`,
      labelNames: ['service', 'outcome'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.requests = new Counter({
      name: 'vigil_service_requests_total',
      help: `Requests reported to /ingest/requests, by service (at most ${MAX_LABELLED_SERVICES}, then "${OVERFLOW_SERVICE}") and outcome (success, failure)`,
      labelNames: ['service', 'outcome'],
      registers,
    });
  }

  /** Registers the gauges that read the monitor's last evaluation. */
  registerGauges(latest: () => SlaStatuses, ownRequests: OwnRequestsRecorder): void {
    const registers = [this.metrics.registry];
    const targeted = () => [...latest().values()].filter((status) => status.target !== null);
    const bounded = () => {
      const all = [...latest().values()];
      return [...all.filter((status) => status.target !== null), ...all.filter((status) => status.target === null)].slice(0, MAX_LABELLED_SERVICES);
    };
    const met: Gauge<'service'> = new Gauge({
      name: 'vigil_sla_met',
      help: 'Whether the service meets its SLA target over the target window (1 meeting, 0 violated); absent without data',
      labelNames: ['service'],
      registers,
      collect() {
        met.reset();
        for (const status of targeted()) if (status.status !== 'no_data') met.set({ service: status.service }, status.sla_met ? 1 : 0);
      },
    });
    const latency: Gauge<'service' | 'quantile'> = new Gauge({
      name: 'vigil_sla_latency_seconds',
      help: 'Latency quantile over the target window (within 1 % of exact), seconds',
      labelNames: ['service', 'quantile'],
      registers,
      collect() {
        latency.reset();
        for (const status of bounded()) {
          const { p95_ms: p95, p99_ms: p99 } = status.metrics.latency;
          if (p95 !== null) latency.set({ service: status.service, quantile: '0.95' }, p95 / 1000);
          if (p99 !== null) latency.set({ service: status.service, quantile: '0.99' }, p99 / 1000);
        }
      },
    });
    const availability: Gauge<'service'> = new Gauge({
      name: 'vigil_sla_availability_ratio',
      help: 'Successful requests / all requests over the target window',
      labelNames: ['service'],
      registers,
      collect() {
        availability.reset();
        for (const status of bounded()) {
          const { total, successful } = status.metrics.requests;
          if (total > 0) availability.set({ service: status.service }, successful / total);
        }
      },
    });
    const budget: Gauge<'service'> = new Gauge({
      name: 'vigil_sla_error_budget_remaining_ratio',
      help: 'Share of the error budget left over the target window (1 untouched, 0 spent, negative overspent)',
      labelNames: ['service'],
      registers,
      collect() {
        budget.reset();
        for (const status of targeted()) if (status.error_budget) budget.set({ service: status.service }, status.error_budget.remaining_percent / 100);
      },
    });
    const burn: Gauge<'service' | 'window'> = new Gauge({
      name: 'vigil_sla_burn_rate',
      help: 'Error-budget burn rate over the window (error rate / allowed error rate); pairs 1h/5m, 6h/30m, 1d/2h, 3d/6h as in the SRE workbook',
      labelNames: ['service', 'window'],
      registers,
      collect() {
        burn.reset();
        for (const status of targeted()) {
          if (!status.burn_rate) continue;
          for (const [window, rate] of Object.entries(status.burn_rate.windows)) burn.set({ service: status.service, window }, rate);
        }
      },
    });
    const dropped: Gauge = new Gauge({
      name: 'vigil_sla_own_requests_dropped',
      help: "Vigil's own requests dropped from the SLA buffer because the store was unreachable for too long (since start)",
      registers,
      collect() {
        dropped.set(ownRequests.dropped);
      },
    });
  }

  /** IngestHooks observer of committed request records: O(1) per record. */
  observe(items: ReadonlyArray<RequestItem>): void {
    for (const item of items) {
      const outcome: Outcome = item.success ? 'success' : 'failure';
      const child = this.childFor(item.service, outcome);
      child.duration.observe(item.durationMs / 1000);
      child.count.inc();
    }
  }

  private childFor(service: string, outcome: Outcome) {
    let label = service;
    if (!this.labelledServices.has(service)) {
      if (this.labelledServices.size < MAX_LABELLED_SERVICES) this.labelledServices.add(service);
      else label = OVERFLOW_SERVICE;
    }
    const key = `${label}\u0000${outcome}`;
    let child = this.children.get(key);
    if (!child) {
      child = { duration: this.requestDuration.labels(label, outcome), count: this.requests.labels(label, outcome) };
      this.children.set(key, child);
    }
    return child;
  }
}
