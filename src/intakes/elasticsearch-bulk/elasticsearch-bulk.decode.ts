import { isPlainObject } from '../json-values.js';
import { vigilLevel } from '../log-levels.js';

/** One operation of a bulk body: its action, index, id and (for index/create) its document. */
export interface BulkOperation {
  action: string;
  index: string | undefined;
  id: string | undefined;
  document: Record<string, unknown> | undefined;
  /** Why the operation cannot be taken, when it cannot (answered on its item). */
  refusal?: { status: number; type: string; reason: string };
}

export class BulkBodyError extends Error {}

const WRITES = new Set(['index', 'create']);
const WITHOUT_DOCUMENT = new Set(['delete']);

function parseLine(line: string, number: number): unknown {
  try {
    return JSON.parse(line);
  } catch (error) {
    throw new BulkBodyError(`Malformed content, line [${number}]: ${(error as Error).message}`);
  }
}

/**
 * The NDJSON body of `_bulk`: action lines (`{"index":{"_index","_id"}}`, `create`, also `update`
 * and `delete`, which Vigil refuses per item: it keeps logs append-only), each write followed by
 * its document. A line that is not JSON, or an action line of no known action, fails the whole
 * request, as Elasticsearch's parser does.
 */
export function decodeBulk(text: string, defaultIndex: string | undefined): BulkOperation[] {
  const lines = text.split('\n');
  const operations: BulkOperation[] = [];
  for (let number = 0; number < lines.length; number++) {
    const line = lines[number]!.trim();
    if (line.length === 0) continue;
    const actionLine = parseLine(line, number + 1);
    const action = isPlainObject(actionLine) ? Object.keys(actionLine)[0] : undefined;
    if (action === undefined || !isPlainObject(actionLine) || Object.keys(actionLine).length !== 1 || !isPlainObject(actionLine[action])) {
      throw new BulkBodyError(`Malformed action/metadata line [${number + 1}], expected a single action such as {"create":{…}}`);
    }
    const metadata = actionLine[action] as Record<string, unknown>;
    const index = typeof metadata['_index'] === 'string' ? metadata['_index'] : defaultIndex;
    const id = typeof metadata['_id'] === 'string' ? metadata['_id'] : undefined;
    if (!WRITES.has(action) && !WITHOUT_DOCUMENT.has(action) && action !== 'update') {
      throw new BulkBodyError(`Malformed action/metadata line [${number + 1}], expected one of [create, delete, index, update] but found [${action}]`);
    }
    let document: unknown;
    if (!WITHOUT_DOCUMENT.has(action)) {
      number++;
      const documentLine = lines[number]?.trim();
      if (documentLine === undefined || documentLine.length === 0) throw new BulkBodyError(`The bulk request must be terminated by a newline [\\n]; no document after line [${number}]`);
      document = parseLine(documentLine, number + 1);
    }
    const operation: BulkOperation = { action, index, id, document: isPlainObject(document) ? document : undefined };
    if (!WRITES.has(action)) {
      operation.refusal = { status: 400, type: 'illegal_argument_exception', reason: `Vigil keeps logs append-only: [${action}] is not supported` };
    } else if (index === undefined) {
      operation.refusal = { status: 400, type: 'action_request_validation_exception', reason: 'Validation Failed: 1: index is missing;' };
    } else if (operation.document === undefined) {
      operation.refusal = { status: 400, type: 'document_parsing_exception', reason: 'the document must be a JSON object' };
    }
    operations.push(operation);
  }
  return operations;
}

/**
 * A dotted field name (`service.name`) prepared once: the name from each part on (`service.name`,
 * `name`) and each part, so a lookup allocates nothing (splitting and joining the name per
 * document and per field cost 12 µs a document, more than the rest of the mapping).
 */
interface FieldPath {
  readonly name: string;
  readonly suffixes: readonly string[];
  readonly parts: readonly string[];
}

function fieldPath(name: string): FieldPath {
  const parts = name.split('.');
  return { name, parts, suffixes: parts.map((_, index) => parts.slice(index).join('.')) };
}

/** A dotted field flat or nested (`{"service":{"name"}}`), as ECS writes either, from part `from` on. */
function field(document: Record<string, unknown>, path: FieldPath, from = 0): unknown {
  const flat = document[path.suffixes[from]!];
  if (flat !== undefined) return flat;
  if (from + 1 >= path.parts.length) return undefined;
  const nested = document[path.parts[from]!];
  return isPlainObject(nested) ? field(nested, path, from + 1) : undefined;
}

/** The first of `paths` (flat or nested) whose value passes `accept`, and its name. */
function first(document: Record<string, unknown>, paths: readonly FieldPath[], accept: (value: unknown) => boolean): [string, unknown] | undefined {
  for (const path of paths) {
    const value = field(document, path);
    if (value !== undefined && accept(value)) return [path.name, value];
  }
  return undefined;
}

const MESSAGE = ['message', 'msg'].map(fieldPath);
const TIMESTAMP = ['@timestamp', 'time', 'timestamp'].map(fieldPath);
const LEVEL = ['level', 'log.level', 'severity'].map(fieldPath);
const SERVICE = ['service', 'service.name'].map(fieldPath);
const TRACE_ID = ['trace.id', 'traceId', 'trace_id'].map(fieldPath);

const isString = (value: unknown) => typeof value === 'string';
const isTime = (value: unknown) => typeof value === 'string' || typeof value === 'number';
const isLevel = (value: unknown) => typeof value === 'string' || typeof value === 'number';

/**
 * A document onto a log item: `message` (or pino's `msg`), `@timestamp` (or pino's `time`),
 * `level` / `log.level` (words, or pino's numbers), `service` / `service.name`, `trace.id`;
 * every other field, and the `_index`, as attributes (a top-level field read into the item is
 * not repeated there; a nested one such as `service: {name, version}` is kept whole).
 */
export function documentToLog(document: Record<string, unknown>, index: string): Record<string, unknown> {
  const item: Record<string, unknown> = {};
  const consumed = new Set<string>();
  const take = (paths: readonly FieldPath[], accept: (value: unknown) => boolean): unknown => {
    const found = first(document, paths, accept);
    if (found === undefined) return undefined;
    if (document[found[0]] !== undefined) consumed.add(found[0]);
    return found[1];
  };
  item['message'] = take(MESSAGE, isString) ?? JSON.stringify(document);
  const timestamp = take(TIMESTAMP, isTime);
  if (timestamp !== undefined) item['timestamp'] = timestamp;
  const level = vigilLevel(take(LEVEL, isLevel));
  if (level !== undefined) item['level'] = level;
  const service = take(SERVICE, isString);
  if (service !== undefined) item['service'] = service;
  const traceId = take(TRACE_ID, isString);
  if (traceId !== undefined) item['traceId'] = traceId;
  const attributes: Record<string, unknown> = { _index: index };
  for (const [name, value] of Object.entries(document)) {
    if (!consumed.has(name)) attributes[name] = value;
  }
  item['attributes'] = attributes;
  return item;
}
