import { hostname } from 'node:os';
import type { Clock } from '../../common/clock.js';
import type { SplunkConfig } from './splunk.plugin.js';
import type { Destination, DestinationLimits, SendResult } from '../../delivery/destination.js';
import type { LogEntry } from '../../ingest-log/log-entry.js';
import { classifyHecAnswer } from './splunk.classification.js';
import { encodeHecBatch, type HecEncoding } from './splunk.encoding.js';
import type { HecClient } from './splunk.transport.js';

/**
 * Per request: within HEC's 1 MB max_content_length of Splunk Cloud and older
 * Splunk Enterprise, uncompressed. The delivery core measures a batch by the
 * entries' stored JSON; the HEC envelope (time, host, source, sourcetype,
 * index, null fields) adds up to ~250 bytes per event, so 800 kB of entries
 * stays under 1 MB on the wire even at 1,000 events.
 */
export const SPLUNK_LIMITS: DestinationLimits = { maxItems: 1_000, maxBytes: 800_000, maxAgeMs: {} };

/** Node's name for a failed TLS check, with the setting that fixes it. */
function networkReason(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  const tls =
    typeof code === 'string' && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code)
      ? ' (the HEC certificate is not trusted: set SPLUNK_CA_FILE to its CA)'
      : '';
  return `HEC request failed: ${typeof code === 'string' ? `${code} ` : ''}${message}${tls}`;
}

/** Ships logs to Splunk's HTTP Event Collector. Encodes, sends and classifies only. */
export class SplunkDestination implements Destination<'log'> {
  readonly name = 'splunk' as const;
  readonly kinds = ['log'] as const;
  readonly limits = SPLUNK_LIMITS;
  private readonly encoding: HecEncoding;

  constructor(
    config: SplunkConfig,
    environment: string,
    private readonly client: HecClient,
    private readonly clock: Clock,
    host: string = hostname(),
  ) {
    this.encoding = { host, environment, ...(config.index ? { index: config.index } : {}) };
  }

  async send(batch: ReadonlyArray<LogEntry<'log'>>, signal: AbortSignal): Promise<SendResult> {
    const body = encodeHecBatch(batch, this.encoding);
    let answer;
    try {
      answer = await this.client.post(body, signal);
    } catch (error) {
      if (signal.aborted) throw error;
      // Refused connections, resets, timeouts and untrusted certificates alike:
      // the data stays queued until the endpoint (or its CA setting) is fixed.
      return { outcome: 'retryable', reason: networkReason(error) };
    }
    return classifyHecAnswer(answer.status, answer.body, answer.retryAfter, this.clock.now());
  }

  close(): void {
    this.client.close();
  }
}
