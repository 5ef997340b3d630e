import { Inject, Injectable } from '@nestjs/common';
import type { AppConfig } from '../../config/app.config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import type { IngestKind } from '../../ingest-log/ingest-log.items.js';
import { IngestService } from '../../ingest/ingest.service.js';
import {
  DatadogBodyError,
  eventFromEventsV1,
  eventsFromCheckRuns,
  logsFromLogsV2,
  metricsFromDistributionPoints,
  metricsFromSeriesV1,
  metricsFromSeriesV2,
} from './datadog-api.decode.js';

/** The Datadog API endpoints Vigil takes, each onto one kind of item. */
export const DATADOG_ENDPOINTS = {
  seriesV2: { kind: 'metric', decode: (body: unknown) => metricsFromSeriesV2(body), accepted: (errors: string[]) => ({ errors }) },
  seriesV1: { kind: 'metric', decode: (body: unknown) => metricsFromSeriesV1(body), accepted: () => ({ status: 'ok' }) },
  distributionPoints: { kind: 'metric', decode: (body: unknown) => metricsFromDistributionPoints(body), accepted: () => ({ status: 'ok' }) },
  checkRun: { kind: 'event', decode: (body: unknown) => eventsFromCheckRuns(body), accepted: () => ({ status: 'ok' }) },
  eventsV1: { kind: 'event', decode: (body: unknown) => [eventFromEventsV1(body)], accepted: () => ({ status: 'ok' }) },
  logsV2: { kind: 'log', decode: (body: unknown, query?: unknown) => logsFromLogsV2(body, query), accepted: () => ({}) },
} as const satisfies Record<string, { kind: IngestKind; decode: (body: unknown, query?: unknown) => unknown[]; accepted: (errors: string[]) => object }>;

export type DatadogEndpoint = keyof typeof DATADOG_ENDPOINTS;

export interface DatadogReply {
  status: number;
  body: object;
}

/** Item problems named in an answer: the first few, as Datadog lists errors. */
const REPORTED_ERRORS = 5;

/**
 * The Datadog API's intake side: decode the endpoint's JSON body (sent as application/json or
 * text/json, gzip or deflate), store its items, answer 202 with the body the official client
 * reads once they are committed. Items Vigil's validation refuses are named in `errors` (v2
 * series) or dropped with the rest accepted (v1 endpoints have no per-item answer); a body of
 * only refused items answers 400.
 */
@Injectable()
export class DatadogApiService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly ingest: IngestService,
  ) {}

  async receive(endpoint: DatadogEndpoint, body: string | Buffer | undefined, ddtags?: unknown): Promise<DatadogReply> {
    const { kind, decode, accepted } = DATADOG_ENDPOINTS[endpoint];
    let items: unknown[];
    try {
      if (body === undefined || body.length === 0) throw new DatadogBodyError('Payload is empty');
      items = decode(JSON.parse(body.toString()) as unknown, ddtags);
    } catch (error) {
      if (error instanceof DatadogBodyError) return { status: 400, body: { errors: [error.message] } };
      if (error instanceof SyntaxError) return { status: 400, body: { errors: [`Payload is not valid JSON: ${error.message}`] } };
      throw error;
    }
    if (items.length === 0) return { status: 202, body: accepted([]) };
    if (items.length > this.config.http.maxBatch) return { status: 413, body: { errors: [`Payload too large: more than ${this.config.http.maxBatch} items (VIGIL_MAX_BATCH)`] } };
    const outcome = await this.ingest.ingestItems(kind, items, 'items');
    const errors = outcome.errors.slice(0, REPORTED_ERRORS).map((problem) => problem.message);
    if (outcome.accepted === 0) return { status: 400, body: { errors } };
    return { status: 202, body: accepted(errors) };
  }
}
