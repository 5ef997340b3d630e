import { Client, errors, type ClientOptions } from '@elastic/elasticsearch';
import type { Clock } from '../../common/clock.js';
import type { ElasticsearchConfig } from './elasticsearch.plugin.js';
import { classifyHttpStatus, type Destination, type DestinationLimits, type SendResult } from '../../delivery/destination.js';
import type { LogEntry } from '../../ingest-log/log-entry.js';
import { bulkOperations } from './elasticsearch.encoding.js';
import { classifyBulkResponse, type BulkResponseBody } from './elasticsearch.results.js';
import { TEMPLATE_VERSION, indexTemplate } from './elasticsearch.template.js';

const MIB = 1024 * 1024;

/**
 * Per `_bulk`: far below Elasticsearch's 100 MB http.max_content_length, and in
 * the 5-15 MB range Elastic recommends, so one slow request never holds much.
 */
export const ELASTICSEARCH_LIMITS: DestinationLimits = { maxItems: 5_000, maxBytes: 5 * MIB, maxAgeMs: {} };

export const ELASTICSEARCH_REQUEST_TIMEOUT_MS = 30_000;

/** What Vigil reads of a `_bulk` answer; each item keeps its position in `items`. */
const BULK_FILTER_PATH = ['errors', 'items.*.status', 'items.*.error'];

/**
 * Vigil's own client options: the delivery core owns retries, so the client
 * makes exactly one attempt per call, within a timeout.
 */
export function elasticsearchClientOptions(config: ElasticsearchConfig, requestTimeoutMs = ELASTICSEARCH_REQUEST_TIMEOUT_MS): ClientOptions {
  const auth = config.apiKey
    ? { apiKey: config.apiKey }
    : config.username !== undefined
      ? { username: config.username, password: config.password ?? '' }
      : undefined;
  return {
    node: config.url,
    ...(auth ? { auth } : {}),
    maxRetries: 0,
    requestTimeout: requestTimeoutMs,
    sniffOnStart: false,
    sniffOnConnectionFault: false,
    name: 'vigil',
  };
}

function header(headers: Record<string, string | string[] | undefined> | undefined, name: string): string | undefined {
  const value = headers?.[name];
  return Array.isArray(value) ? value[0] : value;
}

function responseErrorReason(error: errors.ResponseError): string {
  const body = error.meta.body as { error?: { type?: string; reason?: string } | string } | undefined;
  const detail = typeof body?.error === 'string' ? body.error : [body?.error?.type, body?.error?.reason].filter(Boolean).join(': ');
  return `Elasticsearch answered ${error.meta.statusCode ?? 'without a status'}${detail ? `: ${detail}` : ''}`;
}

/**
 * Ships logs with `_bulk` `create` ops into daily indices. Encodes, sends and
 * classifies only: queueing, retries and dead letters belong to the delivery core.
 */
export class ElasticsearchDestination implements Destination<'log'> {
  readonly name = 'elasticsearch' as const;
  readonly kinds = ['log'] as const;
  readonly limits = ELASTICSEARCH_LIMITS;
  private readonly client: Client;

  constructor(
    private readonly config: ElasticsearchConfig,
    private readonly environment: string,
    private readonly clock: Clock,
    clientOptions: ClientOptions = elasticsearchClientOptions(config),
  ) {
    this.client = new Client(clientOptions);
  }

  /**
   * Installs the index template unless one of this version or newer is there.
   * Idempotent; a failure throws and the core retries prepare() with backoff.
   */
  async prepare(signal: AbortSignal): Promise<void> {
    const name = this.config.indexPrefix;
    try {
      const existing = await this.client.indices.getIndexTemplate({ name }, { signal });
      const installed = existing.index_templates.find((template) => template.name === name);
      if (installed && (installed.index_template.version ?? 0) >= TEMPLATE_VERSION) return;
    } catch (error) {
      if (!(error instanceof errors.ResponseError && error.meta.statusCode === 404)) throw error;
    }
    await this.client.indices.putIndexTemplate({ name, ...indexTemplate(name) }, { signal });
  }

  async send(batch: ReadonlyArray<LogEntry<'log'>>, signal: AbortSignal): Promise<SendResult> {
    const operations = bulkOperations(batch, this.config.indexPrefix, this.environment);
    try {
      const response = await this.client.bulk({ operations, filter_path: BULK_FILTER_PATH }, { signal });
      return classifyBulkResponse(response as BulkResponseBody, batch.length);
    } catch (error) {
      return this.classifyFailure(error, signal);
    }
  }

  close(): Promise<void> {
    return this.client.close();
  }

  /** A whole-request failure; throws (network failure for the core) only when aborted or unknown. */
  private classifyFailure(error: unknown, signal: AbortSignal): SendResult {
    if (signal.aborted) throw error;
    if (error instanceof errors.ResponseError) {
      const status = error.meta.statusCode;
      if (status === undefined || status === 0) return { outcome: 'retryable', reason: responseErrorReason(error) };
      return classifyHttpStatus(status, responseErrorReason(error), header(error.meta.headers, 'retry-after'), this.clock.now());
    }
    if (
      error instanceof errors.TimeoutError ||
      error instanceof errors.ConnectionError ||
      error instanceof errors.NoLivingConnectionsError ||
      error instanceof errors.DeserializationError ||
      // A proxy or load balancer answering instead of Elasticsearch: transient as far as Vigil can tell.
      error instanceof errors.ProductNotSupportedError
    ) {
      return { outcome: 'retryable', reason: `${error.name}: ${error.message}` };
    }
    throw error;
  }
}
