import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bulkAnswerJson, type BulkAnswer } from './elasticsearch-bulk.service.js';

test('the bulk answer text is exactly JSON.stringify of the answer, created and refused items mixed', () => {
  const created = (action: string, index: string, id: string, sequence: number) => ({
    [action]: { _index: index, _id: id, _version: 1, result: 'created', _shards: { total: 1, successful: 1, failed: 0 }, _seq_no: sequence, _primary_term: 1, status: 201 },
  });
  const answer: BulkAnswer = {
    took: 12,
    errors: true,
    items: [
      created('create', 'logs-"quoted"', 'id\\1', 0),
      { create: { _index: 'logs', _id: 'x', status: 400, error: { type: 'document_parsing_exception', reason: 'message must be a string' } } },
      created('index', 'logs-ü', 'abc', 1),
      { update: { _index: null, _id: 'y', status: 400, error: { type: 'illegal_argument_exception', reason: 'append-only' } } },
      { create: { _index: 'logs', _id: 'z', status: 429, error: { type: 'es_rejected_execution_exception', reason: 'retry' } } },
    ],
  };
  assert.equal(bulkAnswerJson(answer), JSON.stringify(answer));
  assert.equal(bulkAnswerJson({ took: 0, errors: false, items: [] }), JSON.stringify({ took: 0, errors: false, items: [] }));
});
