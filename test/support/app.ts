import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Writable } from 'node:stream';
import { createVigilApp } from '../../src/app.factory.js';
import type { AppOverrides } from '../../src/app.module.js';
import { loadConfig, type AppConfig } from '../../src/config/app.config.js';
import { DerivedStateRunner } from '../../src/ingest-log/log-consumers.js';
import './shared-payloads.js';

/**
 * Captures the app's JSON log lines (for redaction and "no per-record logging" checks).
 * Each app writes to its own capture. Nest's `Logger` (every `new Logger('Context')`) goes to
 * the app started last, so lines of an app that runs beside a later one reach the later app's.
 */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter((line) => line.length > 0));
    done();
  }
  get text(): string {
    return this.lines.join('\n');
  }
}

export interface RunningApp {
  app: NestFastifyApplication;
  config: AppConfig;
  url: string;
  logs: LogCapture;
  /** Waits until every derived-state consumer has applied all committed entries. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

/** A config from an env-style record, as the service would parse it. */
export function testConfig(env: Record<string, string | undefined>): AppConfig {
  return loadConfig({ LOG_LEVEL: 'info', ...env });
}

/** The whole Vigil app on an ephemeral loopback port. */
export async function startApp(env: Record<string, string | undefined>, overrides: AppOverrides = {}): Promise<RunningApp> {
  const config = testConfig(env);
  const logs = new LogCapture();
  const app = await createVigilApp(config, { logStream: logs, ...overrides });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    app,
    config,
    url: `http://127.0.0.1:${port}`,
    logs,
    settle: () => app.get(DerivedStateRunner).drainAll(),
    close: () => app.close(),
  };
}

async function readResponse(response: Response) {
  const text = await response.text();
  let json: unknown = undefined;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, body: json as Record<string, unknown>, text, headers: response.headers };
}

/** POSTs JSON and returns status, parsed body and headers. */
export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  return readResponse(await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) }));
}

export async function getJson(url: string, headers: Record<string, string> = {}) {
  return readResponse(await fetch(url, { headers }));
}
