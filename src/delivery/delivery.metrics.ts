import { Injectable } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { VigilMetrics } from '../common/vigil.metrics.js';
import { DeliveryRepository } from './delivery.repository.js';

/**
 * The delivery core's Prometheus metrics. Labels are bounded: `destination` is
 * one of four names, `outcome` and `reason` come from fixed lists.
 *
 * The books balance per destination, over one process lifetime:
 *   accepted = delivered + dead_lettered + dropped + queued (queue depth now)
 * where `accepted` counts the queue's backlog at start plus every entry of the
 * destination's kinds committed since, and `dropped` includes the entries of
 * erased users: those the queue held when the user was erased are counted as it
 * passes them, those erased from the log before it read them when it next
 * recounts its depth (within 5 minutes). Replays of dead letters are counted
 * apart (replay_delivered, replay_dead_lettered) and stay out of the equation.
 */
@Injectable()
export class DeliveryMetrics {
  readonly items: Counter<'destination' | 'outcome'>;
  readonly retries: Counter<'destination' | 'reason'>;
  readonly deadLettered: Counter<'destination' | 'reason'>;
  readonly dropped: Counter<'destination' | 'reason'>;
  readonly requests: Counter<'destination' | 'outcome'>;
  readonly depthItems: Gauge<'destination'>;
  readonly depthBytes: Gauge<'destination'>;
  readonly maxBytes: Gauge<'destination'>;
  readonly oldestAge: Gauge<'destination'>;
  readonly absorbableOutage: Gauge<'destination'>;
  readonly paused: Gauge<'destination'>;
  readonly deadLetters: Gauge<'destination' | 'reason'>;

  constructor(metrics: VigilMetrics, repository: DeliveryRepository) {
    const registers = [metrics.registry];
    this.items = new Counter({
      name: 'vigil_delivery_items_total',
      help: 'Items per destination by outcome: accepted (entered the queue), delivered, dead_lettered, dropped, retried (per retry of an item), replay_delivered, replay_dead_lettered',
      labelNames: ['destination', 'outcome'] as const,
      registers,
    });
    this.retries = new Counter({
      name: 'vigil_delivery_retries_total',
      help:
        'Requests retried, by why: network, timeout (408), server_error (5xx), throttled (429 or Retry-After), ' +
        'configuration (401, 403, 404 or an invalid-token / unknown-index answer: the key, URL or index needs fixing; the items wait, they are not dead-lettered)',
      labelNames: ['destination', 'reason'] as const,
      registers,
    });
    this.deadLettered = new Counter({
      name: 'vigil_delivery_dead_lettered_total',
      help: 'Items moved to the dead-letter store, by reason (rejected, expired, too_large)',
      labelNames: ['destination', 'reason'] as const,
      registers,
    });
    this.dropped = new Counter({
      name: 'vigil_delivery_dropped_total',
      help:
        'Items passed unsent, by reason: queue_full (the drop_oldest policy), ' +
        'erased (the item named a user erased by DELETE /analytics/user/:userId before it was sent; it is neither sent nor dead-lettered)',
      labelNames: ['destination', 'reason'] as const,
      registers,
    });
    this.requests = new Counter({
      name: 'vigil_delivery_requests_total',
      help: 'Send attempts per destination by outcome (delivered, retryable, throttled, too_large, permanent, partial)',
      labelNames: ['destination', 'outcome'] as const,
      registers,
    });
    this.depthItems = new Gauge({ name: 'vigil_delivery_queue_depth_items', help: 'Items waiting for the destination', labelNames: ['destination'] as const, registers });
    this.depthBytes = new Gauge({ name: 'vigil_delivery_queue_depth_bytes', help: 'Stored bytes waiting for the destination', labelNames: ['destination'] as const, registers });
    this.maxBytes = new Gauge({ name: 'vigil_delivery_queue_max_bytes', help: 'Byte bound of the destination queue', labelNames: ['destination'] as const, registers });
    this.oldestAge = new Gauge({
      name: 'vigil_delivery_oldest_item_age_seconds',
      help: 'Age (since receipt) of the oldest item waiting for the destination; 0 when empty',
      labelNames: ['destination'] as const,
      registers,
    });
    this.absorbableOutage = new Gauge({
      name: 'vigil_delivery_absorbable_outage_seconds',
      help: 'Outage seconds the queue can still absorb: free queue bytes / recent ingest byte rate of its kinds (+Inf when nothing arrives)',
      labelNames: ['destination'] as const,
      registers,
    });
    this.paused = new Gauge({
      name: 'vigil_delivery_paused',
      help: '1 while the destination is failing or paused by Retry-After, else 0',
      labelNames: ['destination'] as const,
      registers,
    });
    this.deadLetters = new Gauge({
      name: 'vigil_delivery_dead_letters',
      help: 'Dead letters stored now, by destination and reason',
      labelNames: ['destination', 'reason'] as const,
      registers,
      async collect() {
        // A failed count (store closing) leaves the last values rather than failing the scrape.
        const counts = await repository.counts().catch(() => null);
        if (counts === null) return;
        this.reset();
        for (const row of counts) this.set({ destination: row.destination, reason: row.reason }, row.count);
      },
    });
  }
}
