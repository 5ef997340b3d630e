import { HttpException, Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { createSocket, type Socket } from 'node:dgram';
import { Counter, Gauge } from 'prom-client';
import { Clock } from '../../common/clock.js';
import { VigilMetrics } from '../../common/vigil.metrics.js';
import type { AppConfig } from '../../config/app.config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { BufferingIntakes } from '../../ingest/buffering-intakes.js';
import { IngestService } from '../../ingest/ingest.service.js';
import { intakeSettingsOf } from '../intake.plugin.js';
import { datadogIntakePlugin, type DatadogIntakeSettings } from './datadog.plugin.js';
import { DogStatsdAggregator } from './dogstatsd.aggregate.js';
import { parseDatagram } from './dogstatsd.parse.js';
import { SetCounter } from './dogstatsd.sets.js';

type Raw = Record<string, unknown>;

/** Items handed to ingest per commit: small groups, committed often. */
const COMMIT_GROUP = 1000;

/**
 * DogStatsD over UDP on VIGIL_DOGSTATSD_PORT (hot-shots, the Datadog client libraries, anything
 * that speaks StatsD with Datadog's tags). UDP has no backpressure and no answer: a datagram that
 * arrives while the pending queue holds `maxPendingItems` items is dropped and counted
 * (vigil_dogstatsd_dropped_total{reason="queue_full"}); so are lines that are not DogStatsD
 * (malformed) and items Vigil's validation refuses (invalid). The kernel's receive buffer
 * (VIGIL_DOGSTATSD_RECEIVE_BUFFER_BYTES) absorbs bursts; past it the kernel drops, which Vigil
 * cannot count.
 *
 * Counts and gauges are aggregated per series over each `flushIntervalMs` as the Datadog Agent
 * does (dogstatsd.aggregate.ts: counts summed, a gauge's last value), so a fast sender costs one
 * item per series per interval, not one per line; histograms, distributions and timings keep
 * their samples, and lines with a `|T` timestamp are stored as sent. At every interval the
 * aggregates join the pending queue and everything pending is committed durably in groups: a
 * metric is durable within about one interval of its arrival. When ingest refuses for now (a
 * full delivery queue), the items wait in the bounded queue and are offered again at the next
 * flush. Sets are counted in memory per `setIntervalMs` and committed as gauges of their
 * distinct members (dogstatsd.sets.ts). At shutdown what is held is committed.
 *
 * The receive path per datagram: one UTF-8 decode, lines found by index, and for a count or a
 * gauge one map update; the socket's receive buffer is asked for `receiveBufferBytes` (Linux caps
 * the request at net.core.rmem_max and doubles it; the size granted is on /metrics as
 * vigil_dogstatsd_receive_buffer_bytes).
 */
@Injectable()
export class DogStatsdListener implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('DogStatsD');
  private readonly settings: DatadogIntakeSettings;
  private socket: Socket | null = null;
  private pendingMetrics: Raw[] = [];
  private pendingEvents: Raw[] = [];
  private readonly sets: SetCounter;
  private readonly aggregator: DogStatsdAggregator;
  private flushTimer: NodeJS.Timeout | undefined;
  private setTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | null = null;
  private retryAfter = 0;
  private failing = false;
  private readonly datagrams: Counter;
  private readonly dropped: Counter<'reason'>;
  private readonly pendingGauge: Gauge;
  private readonly receiveBufferGauge: Gauge;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly ingest: IngestService,
    private readonly buffering: BufferingIntakes,
    private readonly clock: Clock,
    metrics: VigilMetrics,
  ) {
    this.settings = intakeSettingsOf(datadogIntakePlugin, config);
    this.sets = new SetCounter(this.settings.dogstatsd.maxSetSeries, this.settings.dogstatsd.maxSetMembers);
    this.aggregator = new DogStatsdAggregator(this.settings.dogstatsd.maxAggregatedSeries);
    const registers = [metrics.registry];
    this.datagrams = new Counter({ name: 'vigil_dogstatsd_datagrams_total', help: 'DogStatsD datagrams received', registers });
    this.dropped = new Counter({
      name: 'vigil_dogstatsd_dropped_total',
      help: 'DogStatsD lines or items dropped: queue_full (the pending queue was full), malformed (not DogStatsD), invalid (refused by validation), set_members (past the set bounds)',
      labelNames: ['reason'] as const,
      registers,
    });
    this.receiveBufferGauge = new Gauge({
      name: 'vigil_dogstatsd_receive_buffer_bytes',
      help: 'The DogStatsD socket receive buffer the kernel granted (Linux: the request capped at net.core.rmem_max, doubled)',
      registers,
    });
    this.pendingGauge = new Gauge({
      name: 'vigil_dogstatsd_pending_items',
      help: 'DogStatsD items received and not yet committed',
      registers,
      collect: () => this.pendingGauge.set(this.pendingMetrics.length + this.pendingEvents.length),
    });
  }

  /** The bound port once listening (tests listen on port 0). */
  get port(): number | null {
    return this.socket ? this.socket.address().port : null;
  }

  async onApplicationBootstrap(): Promise<void> {
    const settings = this.settings.dogstatsd;
    if (settings.port === null) return;
    const socket = createSocket({ type: 'udp4', recvBufferSize: settings.receiveBufferBytes });
    socket.on('message', (datagram) => this.received(datagram));
    socket.on('error', (error) => this.logger.error({ err: error }, 'DogStatsD socket error'));
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(settings.port!, settings.host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    this.socket = socket;
    const granted = socket.getRecvBufferSize();
    this.receiveBufferGauge.set(granted);
    if (granted < settings.receiveBufferBytes) {
      this.logger.warn(`DogStatsD receive buffer: ${granted} bytes granted of ${settings.receiveBufferBytes} asked (raise net.core.rmem_max for more)`);
    }
    this.flushTimer = setInterval(() => {
      this.closeAggregation();
      void this.flush();
    }, settings.flushIntervalMs);
    this.flushTimer.unref();
    this.setTimer = setInterval(() => this.closeSetInterval(), settings.setIntervalMs);
    this.setTimer.unref();
    this.buffering.register('dogstatsd', () => this.drain());
    this.logger.log(`DogStatsD listening on udp://${settings.host}:${this.port}`);
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.flushTimer);
    clearInterval(this.setTimer);
    if (this.socket) await new Promise<void>((resolve) => this.socket!.close(() => resolve()));
    this.socket = null;
  }

  /** Commits everything held now, sets included (shutdown, and tests). */
  async drain(): Promise<void> {
    this.closeSetInterval();
    this.closeAggregation();
    this.retryAfter = 0;
    await this.flush();
    await this.flush();
  }

  private received(datagram: Buffer): void {
    this.datagrams.inc();
    const text = datagram.toString('utf8');
    let malformed = 0;
    /** Lines the aggregator leaves to the full parser (usually none). */
    let others: string | null = null;
    for (let start = 0; start < text.length; ) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = text.length;
      const line = text.charCodeAt(end - 1) === 13 /* \r */ ? text.slice(start, end - 1) : text.slice(start, end);
      start = end + 1;
      if (line.length === 0) continue;
      let outcome = this.aggregator.add(line);
      if (outcome === 'full') {
        this.closeAggregation();
        outcome = this.aggregator.add(line);
      }
      if (outcome === 'malformed') malformed++;
      else if (outcome === 'not_aggregated') others = others === null ? line : `${others}\n${line}`;
    }
    if (malformed > 0) this.dropped.inc({ reason: 'malformed' }, malformed);
    if (others !== null) this.receivedSamples(others);
  }

  /** Lines kept as they are: samples, timestamped points, set members, events, service checks. */
  private receivedSamples(text: string): void {
    const parsed = parseDatagram(text);
    if (parsed.malformed > 0) this.dropped.inc({ reason: 'malformed' }, parsed.malformed);
    const over = this.sets.add(parsed.setMembers);
    if (over > 0) this.dropped.inc({ reason: 'set_members' }, over);
    const arriving = parsed.metrics.length + parsed.events.length;
    if (this.pendingMetrics.length + this.pendingEvents.length + arriving > this.settings.dogstatsd.maxPendingItems) {
      this.dropped.inc({ reason: 'queue_full' }, arriving);
      return;
    }
    for (const metric of parsed.metrics) this.pendingMetrics.push(metric);
    for (const event of parsed.events) this.pendingEvents.push(event);
    if (this.pendingMetrics.length >= COMMIT_GROUP && this.flushing === null) void this.flush();
  }

  /** Ends the aggregation interval: its items join the pending queue (dropped and counted when it is full). */
  private closeAggregation(): void {
    const items = this.aggregator.close();
    if (items.length === 0) return;
    if (this.pendingMetrics.length + this.pendingEvents.length + items.length > this.settings.dogstatsd.maxPendingItems) {
      this.dropped.inc({ reason: 'queue_full' }, items.length);
      return;
    }
    for (const item of items) this.pendingMetrics.push(item);
  }

  private closeSetInterval(): void {
    for (const gauge of this.sets.close()) this.pendingMetrics.push(gauge);
  }

  /** One flush at a time; a failure leaves the items queued for the next. */
  private flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    this.flushing = this.commitPending().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  private async commitPending(): Promise<void> {
    if (this.clock.now() < this.retryAfter) return;
    while (this.pendingEvents.length > 0 || this.pendingMetrics.length > 0) {
      const events = this.pendingEvents.length > 0;
      const queue = events ? this.pendingEvents : this.pendingMetrics;
      const group = queue.slice(0, COMMIT_GROUP);
      try {
        const outcome = await this.ingest.ingestItems(events ? 'event' : 'metric', group, events ? 'events' : 'metrics');
        if (outcome.rejected > 0) this.dropped.inc({ reason: 'invalid' }, outcome.rejected);
      } catch (error) {
        if (error instanceof HttpException && error.getStatus() === 503) {
          // Ingest cannot store now: keep the items (bounded by maxPendingItems) for a later flush.
          this.retryAfter = this.clock.now() + 1000;
          return;
        }
        // Storage failing: keep the items, say so once per failure streak.
        if (!this.failing) this.logger.error({ err: error }, 'DogStatsD items could not be committed; they stay queued and are retried');
        this.failing = true;
        this.retryAfter = this.clock.now() + 1000;
        return;
      }
      if (this.failing) this.logger.log('DogStatsD commits recovered');
      this.failing = false;
      queue.splice(0, group.length);
    }
  }
}
