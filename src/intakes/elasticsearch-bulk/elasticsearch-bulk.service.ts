import { HttpException, Inject, Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { Clock } from '../../common/clock.js';
import type { AppConfig } from '../../config/app.config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { IngestService } from '../../ingest/ingest.service.js';
import { decodeBulk, documentToLog, type BulkOperation } from './elasticsearch-bulk.decode.js';

/** One item of a bulk answer, under its action's name. */
export type BulkItemResult = Record<string, Record<string, unknown>>;

export interface BulkAnswer {
  took: number;
  errors: boolean;
  items: BulkItemResult[];
}

/**
 * Ids for the documents of one request sent without: 20 URL-safe characters as Elasticsearch
 * makes them, a random prefix per request and the document's position (randomBytes per document
 * cost 9 ms per 1000-document request, more than decoding and validating them).
 */
function idGenerator(): (position: number) => string {
  const prefix = randomBytes(12).toString('base64url');
  return (position) => `${prefix}${position.toString(36).padStart(4, '0')}`;
}

/**
 * The answer as JSON text, the same text JSON.stringify(answer) writes: a created item (the
 * shape store() makes, every item of a good request) from one template, any other item by
 * JSON.stringify. The per-item answer is most of a bulk answer's bytes (~190 KB for 1000
 * documents) and the clients read every item, so it is written, not shortened.
 */
export function bulkAnswerJson(answer: BulkAnswer): string {
  const parts = new Array<string>(answer.items.length);
  for (let position = 0; position < answer.items.length; position++) {
    const item = answer.items[position]!;
    const created = item['create'] ?? item['index'];
    parts[position] =
      created !== undefined && created['result'] === 'created' && created['status'] === 201
        ? `{"${item['create'] ? 'create' : 'index'}":{"_index":${JSON.stringify(created['_index'])},"_id":${JSON.stringify(created['_id'])},"_version":1,"result":"created","_shards":{"total":1,"successful":1,"failed":0},"_seq_no":${created['_seq_no'] as number},"_primary_term":1,"status":201}}`
        : JSON.stringify(item);
  }
  return `{"took":${answer.took},"errors":${answer.errors},"items":[${parts.join(',')}]}`;
}

function failed(operation: BulkOperation, id: string, status: number, type: string, reason: string): BulkItemResult {
  return { [operation.action]: { _index: operation.index ?? null, _id: id, status, error: { type, reason } } };
}

/**
 * Elasticsearch's bulk API on Vigil's ingest: each `index`/`create` document becomes a log,
 * validated and durably committed with the others of the request before the answer; the answer
 * has one result per operation, in order, as the official clients read it. A document Vigil's
 * validation refuses answers 400 on its item; documents past VIGIL_MAX_BATCH, and every document
 * when ingest cannot store now (a full delivery queue, a drain), answer 429 on their items, which
 * the clients' bulk helpers retry after a wait — a whole-request 429 would make them throw.
 */
@Injectable()
export class ElasticsearchBulkService {
  private sequenceNumber = 0;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly ingest: IngestService,
    private readonly clock: Clock,
  ) {}

  async bulk(text: string, defaultIndex: string | undefined): Promise<BulkAnswer> {
    const startedAt = this.clock.now();
    const operations = decodeBulk(text, defaultIndex);
    const results: Array<BulkItemResult | undefined> = operations.map(() => undefined);
    const generatedId = idGenerator();
    const ids = operations.map((operation, position) => operation.id ?? generatedId(position));
    const taken: number[] = [];
    for (let position = 0; position < operations.length; position++) {
      const operation = operations[position]!;
      if (operation.refusal) results[position] = failed(operation, ids[position]!, operation.refusal.status, operation.refusal.type, operation.refusal.reason);
      else if (taken.length >= this.config.http.maxBatch) {
        results[position] = failed(operation, ids[position]!, 429, 'es_rejected_execution_exception', `more than ${this.config.http.maxBatch} documents in one request (VIGIL_MAX_BATCH); retry`);
      } else taken.push(position);
    }
    if (taken.length > 0) await this.store(operations, ids, taken, results);
    const items = results.map((result) => result!);
    return { took: Math.max(0, this.clock.now() - startedAt), errors: items.some((item) => Object.values(item)[0]!['error'] !== undefined), items };
  }

  private async store(operations: BulkOperation[], ids: string[], taken: number[], results: Array<BulkItemResult | undefined>): Promise<void> {
    const logs = taken.map((position) => documentToLog(operations[position]!.document!, operations[position]!.index!));
    let refusedByIndex = new Map<number, string>();
    try {
      const outcome = await this.ingest.ingestItems('log', logs, 'documents', { everyError: true });
      refusedByIndex = new Map(outcome.errors.map((problem) => [problem.index, problem.message]));
    } catch (error) {
      if (!(error instanceof HttpException) || error.getStatus() !== 503) throw error;
      for (const position of taken) results[position] = failed(operations[position]!, ids[position]!, 429, 'es_rejected_execution_exception', `${error.message}; retry`);
      return;
    }
    taken.forEach((position, index) => {
      const operation = operations[position]!;
      const refused = refusedByIndex.get(index);
      results[position] = refused === undefined
        ? {
            [operation.action]: {
              _index: operation.index,
              _id: ids[position],
              _version: 1,
              result: 'created',
              _shards: { total: 1, successful: 1, failed: 0 },
              _seq_no: this.sequenceNumber++,
              _primary_term: 1,
              status: 201,
            },
          }
        : failed(operation, ids[position]!, 400, 'document_parsing_exception', refused);
    });
  }
}
