import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startApp, type RunningApp } from '../support/app.js';
import { sqliteDatabase } from '../support/databases.js';
import { documentedFields } from '../../src/ingest/item-openapi.js';

interface MediaType {
  schema?: { $ref?: string };
}
interface Operation {
  security?: unknown[];
  requestBody?: { content?: Record<string, MediaType> };
  responses: Record<string, { description?: string; content?: Record<string, MediaType> }>;
}
interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, { properties?: Record<string, unknown>; required?: string[] }> };
}

const ERROR_REF = '#/components/schemas/ErrorDto';
const BODY_REFUSALS = ['400', '408', '413', '415', '503'];

describe('the OpenAPI document', () => {
  let vigil: RunningApp;
  let document: OpenApiDocument;
  const operations = () =>
    Object.entries(document.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, operation]) => ({ name: `${method.toUpperCase()} ${path}`, path, operation })));
  const isErrorBody = (response: Operation['responses'][string] | undefined) =>
    response !== undefined && Object.keys(response.content ?? {}).join() === 'application/json' && response.content!['application/json']!.schema?.$ref === ERROR_REF;
  /** An OTLP route's error answer: a google.rpc.Status in the request's encoding (otlpDialect). */
  const isRpcStatus = (response: Operation['responses'][string] | undefined) =>
    response !== undefined && Object.keys(response.content ?? {}).sort().join() === 'application/json,application/x-protobuf';
  /** The error answer an operation documents: OTLP's on /v1/*, Vigil's error body elsewhere. */
  const isErrorAnswer = (path: string, response: Operation['responses'][string] | undefined) => (path.startsWith('/v1/') ? isRpcStatus(response) : isErrorBody(response));

  before(async () => {
    vigil = await startApp({ DATABASE_URL: sqliteDatabase().url, VIGIL_INGEST_KEYS: 'ingest-key-0123456789', VIGIL_ADMIN_KEYS: 'admin-key-0123456789' });
    document = (await (await fetch(`${vigil.url}/docs-json`)).json()) as OpenApiDocument;
  });
  after(() => vigil.close());

  test("Vigil's error body is a schema", () => {
    const schema = document.components.schemas['ErrorDto'];
    assert.ok(schema?.properties);
    assert.deepEqual(Object.keys(schema.properties).sort(), ['error', 'errors', 'message', 'request_id', 'status_code']);
    assert.deepEqual([...(schema.required ?? [])].sort(), ['error', 'message', 'request_id', 'status_code']);
  });

  test('every authenticated operation answers 401 and 403 with the error body', () => {
    const authenticated = operations().filter(({ operation }) => (operation.security ?? []).length > 0);
    assert.ok(authenticated.length >= 20, `${authenticated.length} authenticated operations`);
    for (const { name, path, operation } of authenticated) {
      assert.ok(isErrorAnswer(path, operation.responses['401']), `${name}: 401`);
      assert.ok(isErrorAnswer(path, operation.responses['403']), `${name}: 403`);
    }
  });

  test("each ingest body's item schema is its kind's shape: the same fields, required ones and rules", () => {
    const bodies = { metric: 'MetricDto', event: 'EventDto', log: 'LogDto', request: 'RequestRecordDto', analytics: 'AnalyticsEventDto' } as const;
    for (const [kind, name] of Object.entries(bodies) as Array<[keyof typeof bodies, string]>) {
      const schema = document.components.schemas[name];
      const fields = documentedFields(kind);
      assert.deepEqual(Object.keys(schema?.properties ?? {}), fields.map((field) => field.name), name);
      assert.deepEqual(schema?.required ?? [], fields.filter((field) => field.required).map((field) => field.name), name);
      for (const field of fields) {
        const served = (schema!.properties as Record<string, Record<string, unknown>>)[field.name]!;
        for (const [keyword, value] of Object.entries(field.schema)) assert.deepEqual(served[keyword], value, `${name}.${field.name}.${keyword}`);
      }
    }
    assert.deepEqual(document.components.schemas['MetricsBatchDto']?.properties?.['metrics'], { type: 'array', items: { $ref: '#/components/schemas/MetricDto' } });
  });

  test('GET and DELETE /analytics/user/{userId} list their 400', () => {
    for (const method of ['get', 'delete']) {
      assert.ok(isErrorBody(document.paths['/analytics/user/{userId}']?.[method]?.responses['400']), method);
    }
  });

  test('every error answer but a failed health check is the JSON error body, whatever the success media type', () => {
    let checked = 0;
    for (const { name, path, operation } of operations()) {
      if (path.startsWith('/health/')) continue;
      for (const [status, response] of Object.entries(operation.responses)) {
        if (Number(status) < 400) continue;
        // An OTLP route's error answers are OTLP's own, a google.rpc.Status.
        if (path.startsWith('/v1/')) {
          assert.ok(isRpcStatus(response), `${name}: ${status}`);
          continue;
        }
        assert.ok(isErrorBody(response), `${name}: ${status}`);
        checked++;
      }
    }
    assert.ok(checked > 100, `${checked} error answers`);
    assert.ok(isErrorBody(document.paths['/metrics']?.['get']?.responses['401']), '/metrics (text/plain) answers 401 in JSON');
    assert.ok(isErrorBody(document.paths['/sla/report']?.['get']?.responses['400']), '/sla/report (text/plain) answers 400 in JSON');
  });

  test('every body-taking operation takes JSON only and lists the refusals of the body protections', () => {
    const bodyTaking = operations().filter(({ operation }) => operation.requestBody !== undefined);
    assert.deepEqual(bodyTaking.map(({ name }) => name).sort(), [
      'POST /admin/dead-letters/replay',
      'POST /ingest/analytics',
      'POST /ingest/events',
      'POST /ingest/logs',
      'POST /ingest/metrics',
      'POST /ingest/requests',
      'POST /v1/logs',
      'POST /v1/metrics',
      'POST /v1/traces',
      'PUT /sla/targets/{service}',
    ]);
    for (const { name, path, operation } of bodyTaking) {
      // OTLP/HTTP takes protobuf or JSON; every other body is JSON.
      const mediaTypes = path.startsWith('/v1/') ? ['application/x-protobuf', 'application/json'] : ['application/json'];
      assert.deepEqual(Object.keys(operation.requestBody!.content ?? {}), mediaTypes, name);
      for (const status of BODY_REFUSALS) assert.ok(isErrorAnswer(path, operation.responses[status]), `${name}: ${status}`);
    }
  });

  test('every operation but the health checks lists 503 (draining, connection cap), and every rate-limited one 429', () => {
    for (const { name, path, operation } of operations()) {
      if (path.startsWith('/health/')) continue;
      assert.ok(isErrorAnswer(path, operation.responses['503']), `${name}: 503`);
      if (path !== '/metrics') assert.ok(isErrorAnswer(path, operation.responses['429']), `${name}: 429`);
    }
  });
});
