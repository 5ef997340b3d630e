import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ManualClock } from '../../src/common/clock.js';
import type { DestinationName } from '../../src/delivery/destinations.list.js';
import { FakeDatadog } from '../fakes/datadog-intake.js';
import { FakeElasticsearch } from '../fakes/elasticsearch.fake.js';
import { FakeNewRelic } from '../fakes/newrelic-intake.js';
import { FakeSplunkHec, HEC_ANSWERS } from '../fakes/splunk-hec.fake.js';

/** One request as it passed the tap, with the test clock's time when it arrived. */
export interface TappedRequest {
  method: string;
  path: string;
  at: number;
  /** The fake's status; -1 when the tap reset the connection, 0 while hung. */
  status: number;
}

/**
 * A loopback HTTP pass-through in front of a fake. It gives every destination
 * the same two things not all fakes have: receive times on the test's clock
 * (FakeElasticsearch and FakeSplunkHec record none), and network failures
 * (connection reset before the fake sees the request; a request held without
 * an answer). None of the fakes can inject a reset.
 */
export class Tap {
  readonly requests: TappedRequest[] = [];
  /** The next this-many requests whose path matches `faultPath` are reset. */
  resets = 0;
  /** While true, every request matching `faultPath` is held without an answer. */
  hang = false;
  faultPath: RegExp = /.*/;
  private readonly held: ServerResponse[] = [];
  private server: Server | undefined;
  private target = '';

  constructor(private readonly now: () => number) {}

  async start(target: string): Promise<string> {
    this.target = target;
    this.server = createServer((request, response) => void this.forward(request, response));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this.url;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  /** Requests whose path matches, in arrival order. */
  matching(path: RegExp, since = 0): TappedRequest[] {
    return this.requests.slice(since).filter((request) => path.test(request.path));
  }

  /** Ends the hang: held requests fail as network errors. */
  release(): void {
    this.hang = false;
    for (const response of this.held.splice(0)) response.socket?.destroy();
  }

  async stop(): Promise<void> {
    this.release();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async forward(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const path = (request.url ?? '/').split('?')[0]!;
    const record: TappedRequest = { method: request.method ?? 'GET', path, at: this.now(), status: 0 };
    this.requests.push(record);
    if (this.faultPath.test(path)) {
      if (this.resets > 0) {
        this.resets--;
        record.status = -1;
        request.socket.destroy();
        return;
      }
      if (this.hang) {
        this.held.push(response);
        return;
      }
    }
    const upstream = httpRequest(`${this.target}${request.url ?? '/'}`, { method: request.method, headers: request.headers }, (answer) => {
      record.status = answer.statusCode ?? 0;
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
    });
    upstream.on('error', () => response.socket?.destroy());
    upstream.end(Buffer.concat(chunks));
  }
}

/** An item as a destination received it, identified by the `id` the test gave it. */
export interface Arrival {
  id: string;
  kind: 'metric' | 'event' | 'log';
  /** Metric value, event text or log level. */
  content: string | number;
  /** Its own timestamp in epoch ms, as the destination got it. */
  timestampMs: number;
}

/** A whole-request vendor answer the subject's fake can inject; `expectStatus` is what Vigil should store. */
export interface PermanentCase {
  label: string;
  inject(): void;
  expectStatus: number;
  /** Part of the dead letter's detail that shows the vendor's reason. */
  expectDetail: RegExp;
}

/**
 * A refusal of Vigil's credentials or settings (bad or revoked key, wrong URL
 * or index): the fake answers it to the next `times` data requests, then
 * accepts again, as when an operator fixes the key.
 */
export interface ConfigurationCase {
  label: string;
  inject(times: number): void;
  expectStatus: number;
}

/** One destination under the shared contract: its fake, tap, env and vendor-specific injections. */
export interface Subject {
  name: DestinationName;
  /** The ingest endpoint of its data kind (metrics for the APM destinations, logs for the log ones). */
  endpoint: 'metrics' | 'logs';
  /** Also takes events (checked in the delivery scenario). */
  takesEvents: boolean;
  /** Path of the data requests at the vendor. */
  dataPath: RegExp;
  tap: Tap;
  start(): Promise<void>;
  stop(): Promise<void>;
  env(): Record<string, string>;
  /** A body item of `endpoint` with id `id`. */
  item(id: string, value: number, timestampMs: number): Record<string, unknown>;
  arrivals(): Arrival[];
  /** One transient 503 on the next data request. */
  inject503(): void;
  /** A 429 with this Retry-After on the next data request. */
  inject429(retryAfter: string): void;
  /** A 413 on the next data request; null when the vendor never answers 413. */
  inject413: (() => void) | null;
  /** Refusals of the items themselves: dead-lettered. */
  permanentCases: PermanentCase[];
  /** Refusals of the credentials or settings: retried until accepted, never dead-lettered. */
  configurationCases: ConfigurationCase[];
  /** Per-item refusal inside an accepted request (Elasticsearch mapping errors): items whose id starts with the prefix are refused. */
  perItemRejection: { inject(idPrefix: string): void; clear(): void; expectStatus: number; expectDetail: RegExp } | null;
  /** Oldest metric (by its own time) the vendor accepts; null: no limit. */
  maxAgeMs: number | null;
  /** Every data request answers 503 until `heal()`. */
  failForever(): void;
  heal(): void;
}

export const DATADOG_KEY = 'dd-key-0123456789';
export const NEW_RELIC_KEY = 'nr-license-0123456789';
export const HEC_TOKEN = 'hec-token-0123456789';
const HOUR_MS = 3_600_000;
/** FakeElasticsearch and FakeSplunkHec have no "fail forever": this many queued faults outlast any test here. */
const FOREVER = 100_000;

function tagValue(tags: string[], key: string): string | undefined {
  return tags.find((tag) => tag.startsWith(`${key}:`))?.slice(key.length + 1);
}

/** Start and stop of a fake with the Tap in front of it: the app talks to the tap. */
function behindTap(fake: { start(): Promise<unknown>; url: string }, tap: Tap, closeFake: () => Promise<unknown>): Pick<Subject, 'start' | 'stop'> {
  return {
    start: async () => {
      await fake.start();
      await tap.start(fake.url);
    },
    stop: async () => {
      await tap.stop();
      await closeFake();
    },
  };
}

export function datadogSubject(clock: ManualClock): Subject {
  const fake = new FakeDatadog(DATADOG_KEY, () => clock.now());
  const tap = new Tap(() => clock.now());
  const dataPath = /^\/api\/v2\/series$/;
  return {
    name: 'datadog',
    endpoint: 'metrics',
    takesEvents: true,
    dataPath,
    tap,
    ...behindTap(fake, tap, () => fake.close()),
    env: () => ({ DATADOG_API_KEY: DATADOG_KEY, DATADOG_API_URL: tap.url }),
    item: (id, value, timestampMs) => ({ name: 'contract.item', value, timestamp: timestampMs, tags: { id } }),
    arrivals: () => [
      ...fake.points.map((point) => ({ id: tagValue(point.tags, 'id') ?? '', kind: 'metric' as const, content: point.value, timestampMs: point.timestamp * 1000 })),
      ...fake.events.map((event) => ({ id: event.title, kind: 'event' as const, content: event.text, timestampMs: (event.date_happened ?? 0) * 1000 })),
    ],
    inject503: () => fake.inject(1, { status: 503 }, dataPath),
    inject429: (retryAfter) => fake.inject(1, { status: 429, headers: { 'retry-after': retryAfter } }, dataPath),
    inject413: () => fake.inject(1, { status: 413, body: { errors: ['Payload too large'] } }, dataPath),
    permanentCases: [400, 422].map((status) => ({
      label: String(status),
      inject: () => fake.inject(1, { status, body: { errors: [`refused with ${status}`] } }, dataPath),
      expectStatus: status,
      expectDetail: new RegExp(`refused with ${status}`),
    })),
    configurationCases: [
      { label: '403 (invalid or revoked API key)', status: 403, body: { errors: ['Forbidden'] } },
      { label: '401', status: 401, body: { errors: ['Unauthorized'] } },
      { label: '404 (wrong DATADOG_API_URL)', status: 404, body: { errors: ['Not found'] } },
    ].map(({ label, status, body }) => ({ label, inject: (times) => fake.inject(times, { status, body }, dataPath), expectStatus: status })),
    perItemRejection: null,
    maxAgeMs: HOUR_MS,
    failForever: () => fake.failAll({ status: 503 }),
    heal: () => fake.clearInjected(),
  };
}

export function newRelicSubject(clock: ManualClock): Subject {
  const fake = new FakeNewRelic(NEW_RELIC_KEY, '42', () => clock.now());
  const tap = new Tap(() => clock.now());
  const dataPath = /^\/metric\/v1$/;
  return {
    name: 'newrelic',
    endpoint: 'metrics',
    takesEvents: true,
    dataPath,
    tap,
    ...behindTap(fake, tap, () => fake.close()),
    env: () => ({
      NEW_RELIC_LICENSE_KEY: NEW_RELIC_KEY,
      NEW_RELIC_METRIC_API_URL: `${tap.url}/metric/v1`,
      NEW_RELIC_EVENT_API_URL: `${tap.url}/v1/accounts/${fake.accountId}/events`,
    }),
    item: (id, value, timestampMs) => ({ name: 'contract.item', value, timestamp: timestampMs, tags: { id } }),
    arrivals: () => [
      ...fake.metrics.map((metric) => ({ id: String(metric.attributes['id'] ?? ''), kind: 'metric' as const, content: metric.value as number, timestampMs: metric.timestamp ?? 0 })),
      ...fake.events.map((event) => ({ id: String(event['title']), kind: 'event' as const, content: String(event['text']), timestampMs: event['timestamp'] as number })),
    ],
    inject503: () => fake.inject(1, { status: 503 }, dataPath),
    inject429: (retryAfter) => fake.inject(1, { status: 429, headers: { 'retry-after': retryAfter } }, dataPath),
    inject413: () => fake.inject(1, { status: 413, body: { error: 'payload too large' } }, dataPath),
    permanentCases: [400].map((status) => ({
      label: String(status),
      inject: () => fake.inject(1, { status, body: { error: `refused with ${status}` } }, dataPath),
      expectStatus: status,
      expectDetail: new RegExp(`refused with ${status}`),
    })),
    configurationCases: [
      { label: '403 (invalid license key)', status: 403, body: { error: 'invalid license key' } },
      { label: '401', status: 401, body: { error: 'unauthorized' } },
      { label: '404 (wrong NEW_RELIC_METRIC_API_URL)', status: 404, body: { error: 'not found' } },
    ].map(({ label, status, body }) => ({ label, inject: (times) => fake.inject(times, { status, body }, dataPath), expectStatus: status })),
    perItemRejection: null,
    maxAgeMs: 48 * HOUR_MS,
    failForever: () => fake.failAll({ status: 503 }),
    heal: () => fake.clearInjected(),
  };
}

export function elasticsearchSubject(clock: ManualClock): Subject & { fake: FakeElasticsearch } {
  const fake = new FakeElasticsearch();
  const tap = new Tap(() => clock.now());
  const dataPath = /\/_bulk$/;
  const esError = (status: number, type: string) => ({ error: { type, reason: `refused with ${status}` }, status });
  return {
    fake,
    name: 'elasticsearch',
    endpoint: 'logs',
    takesEvents: false,
    dataPath,
    tap,
    ...behindTap(fake, tap, () => fake.stop()),
    env: () => ({ ELASTICSEARCH_URL: tap.url, ELASTICSEARCH_INDEX_PREFIX: 'contract' }),
    item: (id, value, timestampMs) => ({ message: id, level: value % 2 === 0 ? 'info' : 'error', timestamp: timestampMs, service: 'contract' }),
    arrivals: () =>
      fake.documents().map(({ document }) => ({
        id: String(document['message']),
        kind: 'log' as const,
        content: String(document['level']),
        timestampMs: Date.parse(String(document['@timestamp'])),
      })),
    inject503: () => fake.requestFaults.push({ status: 503 }),
    inject429: (retryAfter) => fake.requestFaults.push({ status: 429, headers: { 'retry-after': retryAfter } }),
    inject413: () => fake.requestFaults.push({ status: 413, body: esError(413, 'content_too_long_exception') }),
    permanentCases: [
      ...[{ status: 400, type: 'illegal_argument_exception' }].map(({ status, type }) => ({
        label: `${status} (whole request)`,
        inject: () => fake.requestFaults.push({ status, body: esError(status, type) }),
        expectStatus: status,
        expectDetail: new RegExp(`${type}: refused with ${status}`),
      })),
    ],
    configurationCases: [
      { status: 401, type: 'security_exception' },
      { status: 403, type: 'security_exception' },
      { status: 404, type: 'index_not_found_exception' },
    ].map(({ status, type }) => ({
      label: `${status} ${type} (whole request)`,
      inject: (times) => {
        for (let count = 0; count < times; count++) fake.requestFaults.push({ status, body: esError(status, type) });
      },
      expectStatus: status,
    })),
    perItemRejection: {
      inject: (idPrefix) => {
        fake.itemFault = (operation) =>
          String(operation.document['message']).startsWith(idPrefix)
            ? { status: 400, error: { type: 'document_parsing_exception', reason: 'failed to parse field [duration_ms] of type [float]' } }
            : undefined;
      },
      clear: () => {
        fake.itemFault = undefined;
      },
      expectStatus: 400,
      expectDetail: /^document_parsing_exception: failed to parse field \[duration_ms\] of type \[float\]$/,
    },
    maxAgeMs: null,
    failForever: () => {
      for (let count = 0; count < FOREVER; count++) fake.requestFaults.push({ status: 503 });
    },
    heal: () => {
      fake.requestFaults.length = 0;
    },
  };
}

export function splunkSubject(clock: ManualClock): Subject & { fake: FakeSplunkHec } {
  const fake = new FakeSplunkHec({ tokens: [HEC_TOKEN] });
  const tap = new Tap(() => clock.now());
  const dataPath = /^\/services\/collector\/event$/;
  return {
    fake,
    name: 'splunk',
    endpoint: 'logs',
    takesEvents: false,
    dataPath,
    tap,
    ...behindTap(fake, tap, () => fake.stop()),
    env: () => ({ SPLUNK_HEC_URL: tap.url, SPLUNK_HEC_TOKEN: HEC_TOKEN }),
    item: (id, value, timestampMs) => ({ message: id, level: value % 2 === 0 ? 'info' : 'error', timestamp: timestampMs, service: 'contract' }),
    arrivals: () =>
      fake.events.map((event) => {
        const fields = event['event'] as Record<string, unknown>;
        return { id: String(fields['message']), kind: 'log' as const, content: String(fields['level']), timestampMs: Math.round((event['time'] as number) * 1000) };
      }),
    inject503: () => fake.faults.push(HEC_ANSWERS.serverBusy),
    // HEC has no 429 code of its own; a proxy in front of it (or Splunk Cloud's edge) answers it.
    inject429: (retryAfter) => fake.faults.push({ status: 429, code: 429, text: 'Too Many Requests', headers: { 'retry-after': retryAfter } }),
    // HEC answers 413 when a body is over max_content_length; the body carries no HEC code.
    inject413: () => fake.faults.push({ status: 413, code: 413, text: 'Content-Length exceeds max_content_length' }),
    permanentCases: [
      { label: 'code 5 no data (400)', answer: HEC_ANSWERS.noData },
      { label: 'code 6 invalid data format (400)', answer: HEC_ANSWERS.invalidDataFormat },
    ].map(({ label, answer }) => ({
      label,
      inject: () => fake.faults.push(answer),
      expectStatus: answer.status,
      expectDetail: new RegExp(`code ${answer.code}: ${answer.text}`),
    })),
    configurationCases: [
      { label: 'code 1 token disabled (403)', answer: HEC_ANSWERS.tokenDisabled },
      { label: 'code 2 token required (401)', answer: HEC_ANSWERS.tokenRequired },
      { label: 'code 4 invalid token (403)', answer: HEC_ANSWERS.invalidToken },
      { label: 'code 7 incorrect index (400)', answer: HEC_ANSWERS.incorrectIndex },
    ].map(({ label, answer }) => ({
      label,
      inject: (times) => {
        for (let count = 0; count < times; count++) fake.faults.push(answer);
      },
      expectStatus: answer.status,
    })),
    // HEC has no per-event results: a bad event fails the whole request (code 6 above).
    perItemRejection: null,
    maxAgeMs: null,
    failForever: () => {
      for (let count = 0; count < FOREVER; count++) fake.faults.push(HEC_ANSWERS.serverBusy);
    },
    heal: () => {
      fake.faults.length = 0;
    },
  };
}

export const SUBJECTS: Array<(clock: ManualClock) => Subject> = [datadogSubject, newRelicSubject, elasticsearchSubject, splunkSubject];
