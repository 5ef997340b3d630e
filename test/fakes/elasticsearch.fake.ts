import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

/** What the fake answers for one `_bulk` item instead of indexing it. */
export interface FakeItemFault {
  status: number;
  error: { type: string; reason: string };
}

/** A whole `_bulk` request answered with this instead of being processed. */
export interface FakeRequestFault {
  status: number;
  /** Index the request's documents first, then answer with this fault (an answer lost on the way). */
  afterProcessing?: boolean;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface FakeBulkOperation {
  action: 'create' | 'index';
  index: string;
  id: string;
  document: Record<string, unknown>;
  /** How many times this index+_id was sent before, this one excluded. */
  previousAttempts: number;
}

/**
 * A fake Elasticsearch 8 on 127.0.0.1: a real store keyed by index and `_id`
 * (so `create` answers 409 for a document already there and "exactly once"
 * can be checked), `_index_template`, GET / and `_bulk` NDJSON with per-item
 * statuses. Sends `x-elastic-product: Elasticsearch`, without which the
 * official client refuses every answer. Tests inject faults per item
 * (`itemFault`) and per request (`requestFaults`).
 */
export class FakeElasticsearch {
  readonly indices = new Map<string, Map<string, Record<string, unknown>>>();
  readonly templates = new Map<string, Record<string, unknown>>();
  readonly attempts = new Map<string, number>();
  /** Answered in order to the next `_bulk` requests, instead of processing them. */
  readonly requestFaults: FakeRequestFault[] = [];
  /** Decides, per item, whether to fail it instead of indexing. */
  itemFault: ((operation: FakeBulkOperation) => FakeItemFault | undefined) | undefined;
  readonly stats = { bulkRequests: 0, itemsReceived: 0, created: 0, conflicts: 0, itemFaults: 0, requestFaults: 0, templatePuts: 0 };
  readonly requestHeaders: Array<Record<string, string | string[] | undefined>> = [];
  private server: Server | undefined;

  async start(): Promise<string> {
    this.server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        this.send(response, 500, { error: { type: 'fake_failure', reason: String(error) }, status: 500 });
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this.url;
  }

  get url(): string {
    const address = this.server?.address() as AddressInfo;
    return `http://127.0.0.1:${address.port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Every stored document, across indices. */
  get documentCount(): number {
    let count = 0;
    for (const documents of this.indices.values()) count += documents.size;
    return count;
  }

  documents(): Array<{ index: string; id: string; document: Record<string, unknown> }> {
    return [...this.indices.entries()].flatMap(([index, documents]) => [...documents.entries()].map(([id, document]) => ({ index, id, document })));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://fake');
    const body = await readBody(request);
    this.requestHeaders.push(request.headers);
    const path = url.pathname;
    if (request.method === 'GET' && path === '/') {
      this.send(response, 200, {
        name: 'fake-node',
        cluster_name: 'fake',
        cluster_uuid: 'fake-uuid',
        version: { number: '8.15.0', build_flavor: 'default', lucene_version: '9.11.1', minimum_wire_compatibility_version: '7.17.0' },
        tagline: 'You Know, for Search',
      });
      return;
    }
    const template = /^\/_index_template\/([^/]+)$/.exec(path);
    if (template) {
      const name = decodeURIComponent(template[1]!);
      if (request.method === 'PUT' || request.method === 'POST') {
        this.stats.templatePuts++;
        this.templates.set(name, JSON.parse(body) as Record<string, unknown>);
        this.send(response, 200, { acknowledged: true });
      } else if (request.method === 'GET') {
        const stored = this.templates.get(name);
        if (!stored) {
          this.send(response, 404, { error: { type: 'resource_not_found_exception', reason: `index template matching [${name}] not found` }, status: 404 });
        } else {
          this.send(response, 200, { index_templates: [{ name, index_template: stored }] });
        }
      } else {
        this.send(response, 405, { error: 'Incorrect HTTP method', status: 405 });
      }
      return;
    }
    const bulk = /^(?:\/([^/]+))?\/_bulk$/.exec(path);
    if (bulk && (request.method === 'POST' || request.method === 'PUT')) {
      this.stats.bulkRequests++;
      const fault = this.requestFaults.shift();
      if (fault) {
        this.stats.requestFaults++;
        if (fault.afterProcessing) this.bulk(body, bulk[1] ? decodeURIComponent(bulk[1]) : undefined, null);
        this.send(response, fault.status, fault.body ?? { error: { type: 'fake_fault', reason: `injected ${fault.status}` }, status: fault.status }, fault.headers);
        return;
      }
      this.send(response, 200, this.bulk(body, bulk[1] ? decodeURIComponent(bulk[1]) : undefined, url.searchParams.get('filter_path')));
      return;
    }
    this.send(response, 404, { error: { type: 'fake_not_found', reason: `${request.method} ${path} is not faked` }, status: 404 });
  }

  private bulk(body: string, defaultIndex: string | undefined, filterPath: string | null): unknown {
    const lines = body.split('\n').filter((line) => line.trim() !== '');
    const items: Array<Record<string, Record<string, unknown>>> = [];
    let errors = false;
    for (let position = 0; position < lines.length; position += 2) {
      const actionLine = JSON.parse(lines[position]!) as Record<string, { _index?: string; _id?: string }>;
      const [action, meta] = Object.entries(actionLine)[0]!;
      const document = JSON.parse(lines[position + 1] ?? '{}') as Record<string, unknown>;
      const index = meta._index ?? defaultIndex ?? 'missing-index';
      const id = meta._id ?? `auto-${Math.random().toString(36).slice(2)}`;
      this.stats.itemsReceived++;
      const key = `${index}/${id}`;
      const previousAttempts = this.attempts.get(key) ?? 0;
      this.attempts.set(key, previousAttempts + 1);
      let result: Record<string, unknown>;
      const fault = this.itemFault?.({ action: action as 'create' | 'index', index, id, document, previousAttempts });
      const stored = this.indices.get(index)?.get(id);
      if (fault) {
        this.stats.itemFaults++;
        result = { _index: index, _id: id, status: fault.status, error: { ...fault.error, index } };
      } else if (action === 'create' && stored) {
        this.stats.conflicts++;
        result = {
          _index: index,
          _id: id,
          status: 409,
          error: { type: 'version_conflict_engine_exception', reason: `[${id}]: version conflict, document already exists (current version [1])`, index },
        };
      } else if (action === 'create' || action === 'index') {
        if (!this.indices.has(index)) this.indices.set(index, new Map());
        this.indices.get(index)!.set(id, document);
        this.stats.created++;
        result = { _index: index, _id: id, _version: 1, result: 'created', status: 201, _seq_no: 0, _primary_term: 1 };
      } else {
        result = { _index: index, _id: id, status: 400, error: { type: 'illegal_argument_exception', reason: `action ${action} is not faked` } };
      }
      if (typeof result['error'] === 'object') errors = true;
      items.push({ [action]: result });
    }
    if (filterPath) {
      // The subset of filter_path Vigil uses: errors, items.*.status, items.*.error.
      const keep = new Set(filterPath.split(',').map((part) => part.trim()));
      const filtered: Record<string, unknown> = {};
      if (keep.has('errors')) filtered['errors'] = errors;
      const fields = ['status', 'error', '_id', '_index'].filter((field) => keep.has(`items.*.${field}`));
      if (fields.length > 0) {
        filtered['items'] = items.map((item) =>
          Object.fromEntries(Object.entries(item).map(([action, result]) => [action, Object.fromEntries(fields.filter((field) => field in result).map((field) => [field, result[field]]))])),
        );
      }
      return filtered;
    }
    return { took: 1, errors, items };
  }

  private send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = JSON.stringify(body);
    response.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      'x-elastic-product': 'Elasticsearch',
      ...headers,
    });
    response.end(text);
  }
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  return (request.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
}
