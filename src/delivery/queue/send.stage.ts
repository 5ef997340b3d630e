import type { LogEntry } from '../../ingest-log/log-entry.js';
import type { Destination, SendResult } from '../destination.js';
import type { QueueDependencies } from './queue.types.js';

type SendDependencies = Pick<QueueDependencies, 'metrics' | 'redactor'>;

/**
 * Stage contract — timeout and send: one attempt. Hands the entries to the
 * destination with a signal that aborts at `sendTimeoutMs` or when `abort`
 * does (shutdown after its grace); a thrown error becomes a retryable network
 * failure. Counts the attempt by outcome (vigil_delivery_requests_total) and
 * returns the result with every reason redacted: from here on reasons reach
 * logs and dead letters. Never retries, waits or resolves entries.
 */
export class SendStage {
  constructor(
    private readonly destination: Destination,
    private readonly sendTimeoutMs: number,
    private readonly abort: AbortSignal,
    private readonly deps: SendDependencies,
  ) {}

  async attempt(entries: LogEntry[]): Promise<SendResult> {
    const signal = AbortSignal.any([this.abort, AbortSignal.timeout(this.sendTimeoutMs)]);
    let result: SendResult;
    try {
      result = await this.destination.send(entries, signal);
    } catch (error) {
      result = { outcome: 'retryable', reason: `request failed: ${error instanceof Error ? error.message : String(error)}` };
    }
    this.deps.metrics.requests.inc({ destination: this.destination.name, outcome: result.outcome });
    return this.redacted(result);
  }

  private redacted(result: SendResult): SendResult {
    const redact = (reason: string) => this.deps.redactor.redact(reason);
    if (result.outcome === 'delivered') return result;
    if (result.outcome === 'partial') return { ...result, items: result.items.map((item) => (item.outcome === 'delivered' ? item : { ...item, reason: redact(item.reason) })) };
    return { ...result, reason: redact(result.reason) };
  }
}
