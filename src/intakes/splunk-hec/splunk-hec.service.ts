import { Inject, Injectable } from '@nestjs/common';
import type { AppConfig } from '../../config/app.config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { IngestService } from '../../ingest/ingest.service.js';
import type { IngestOutcome } from '../../ingest/ingest.types.js';
import { intakeSettingsOf } from '../intake.plugin.js';
import { HecAcknowledgements, isHecChannel } from './splunk-hec.acks.js';
import { decodeHecEvents, decodeHecRaw, type DecodedHecRequest, type HecMetadata } from './splunk-hec.decode.js';
import { HEC_CODES, type HecAnswerBody } from './splunk-hec.dialect.js';
import { splunkHecIntakePlugin } from './splunk-hec.plugin.js';

export interface HecReply {
  status: number;
  body: HecAnswerBody | { acks: Record<string, boolean> };
}

export interface HecRequest {
  body: string | Buffer | undefined;
  /** X-Splunk-Request-Channel, or `?channel=`. */
  channel: string | undefined;
  /** The raw endpoint's metadata, from the query string. */
  query: HecMetadata & { time?: unknown };
}

function reply(status: number, body: HecAnswerBody): HecReply {
  return { status, body };
}

/** The event number of each refused item, mapped back from its kind's batch. */
function firstRefused(outcome: IngestOutcome, eventNumbers: readonly number[]): number | undefined {
  const first = outcome.errors[0];
  return first === undefined ? undefined : eventNumbers[first.index];
}

/**
 * Splunk HEC's semantics on Vigil's ingest: a request is indexed up to its first invalid event
 * and answered `{"text":"Success","code":0}` only after the commit. Its logs and its metric
 * events (`"event":"metric"`) are two batches of two kinds, logs first; an invalid event stops
 * both at its number, except that a metric refused by validation (not by decoding) cannot
 * withdraw the logs after it, already committed: the answer names the first refused event
 * either way.
 */
@Injectable()
export class SplunkHecService {
  private readonly acks: HecAcknowledgements;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly ingest: IngestService,
  ) {
    this.acks = new HecAcknowledgements(intakeSettingsOf(splunkHecIntakePlugin, config).maxAckChannels);
  }

  get allowsQueryToken(): boolean {
    return intakeSettingsOf(splunkHecIntakePlugin, this.config).allowQueryToken;
  }

  async receive(request: HecRequest, format: 'event' | 'raw'): Promise<HecReply> {
    if (request.channel !== undefined && !isHecChannel(request.channel)) return reply(400, { text: 'Invalid data channel', code: HEC_CODES.invalidChannel });
    const text = request.body === undefined ? '' : request.body.toString();
    const maxEvents = this.config.http.maxBatch;
    const decoded = format === 'event' ? decodeHecEvents(text, maxEvents) : decodeHecRaw(text, request.query, maxEvents);
    if (decoded.problem === null && decoded.logs.length === 0 && decoded.metrics.length === 0) {
      return reply(400, { text: 'No data', code: HEC_CODES.noData });
    }
    const refused = await this.store(decoded);
    const problem = decoded.problem;
    if (refused !== undefined && (problem === null || refused < problem.eventNumber)) {
      return reply(400, { text: 'Invalid data format', code: HEC_CODES.invalidDataFormat, 'invalid-event-number': refused });
    }
    if (problem !== null) return reply(400, { text: problem.text, code: problem.code, 'invalid-event-number': problem.eventNumber });
    const body: HecAnswerBody = { text: 'Success', code: HEC_CODES.success };
    if (request.channel !== undefined) body.ackId = this.acks.issue(request.channel);
    return reply(200, body);
  }

  acknowledge(channel: string | undefined, body: unknown): HecReply {
    if (channel === undefined) return reply(400, { text: 'Data channel is missing', code: HEC_CODES.channelMissing });
    if (!isHecChannel(channel)) return reply(400, { text: 'Invalid data channel', code: HEC_CODES.invalidChannel });
    const ids = (body as { acks?: unknown } | undefined)?.acks;
    if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'number')) return reply(400, { text: 'Invalid data format', code: HEC_CODES.invalidDataFormat });
    return { status: 200, body: { acks: this.acks.query(channel, ids as number[]) } };
  }

  /** Stores both kinds; the event number of the first item validation refused, if any. */
  private async store(decoded: DecodedHecRequest): Promise<number | undefined> {
    const refused: number[] = [];
    if (decoded.logs.length > 0) {
      const outcome = await this.ingest.ingestItems('log', decoded.logs, 'events', { upToFirstInvalid: true });
      const first = firstRefused(outcome, decoded.logEventNumbers);
      if (first !== undefined) refused.push(first);
    }
    // Metric events after a refused log event are not stored (the log batch went first).
    const metricsBefore = refused.length === 0 ? decoded.metrics.length : decoded.metricEventNumbers.findIndex((eventNumber) => eventNumber > refused[0]!);
    const metrics = metricsBefore === -1 ? decoded.metrics : decoded.metrics.slice(0, metricsBefore);
    if (metrics.length > 0) {
      const outcome = await this.ingest.ingestItems('metric', metrics, 'events', { upToFirstInvalid: true });
      const first = firstRefused(outcome, decoded.metricEventNumbers);
      if (first !== undefined) refused.push(first);
    }
    return refused.length === 0 ? undefined : Math.min(...refused);
  }
}
