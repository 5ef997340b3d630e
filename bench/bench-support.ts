import autocannon from 'autocannon';
import pg from 'pg';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/support/child-process.js';

export const BENCH_KEY = 'bench-ingest-key-0123456789';

export interface Server {
  url: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

async function waitForPort(url: string, path: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited: ${output()}`);
    try {
      const response = await fetch(`${url}${path}`);
      if (response.status < 500) return;
    } catch {
      // not yet listening
    }
    if (Date.now() > deadline) throw new Error(`server did not start: ${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function startProcess(args: string[], env: Record<string, string>, readyPath: string, port: number): Promise<Server> {
  const child = spawn(process.execPath, args, { env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
  child.stderr!.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
  const url = `http://127.0.0.1:${port}`;
  await waitForPort(url, readyPath, child, () => output);
  return {
    url,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 15_000).unref();
      }),
  };
}

export async function startBareFastify(): Promise<Server> {
  const port = await freePort();
  return startProcess([fileURLToPath(new URL('./bare-fastify.js', import.meta.url)), String(port)], {}, '/', port);
}

/**
 * The Node flags of `npm run start:prod` of the build whose entry point is `mainJs`, so the bench runs
 * each build as production does: a build whose start script asks dist/src/config/memory-flags.js
 * gets that script's answer for `env` (VIGIL_MEMORY_BUDGET_MB), an earlier one the flags written in it.
 */
function productionNodeFlags(mainJs: string, env: Record<string, string>): string[] {
  const manifest = JSON.parse(readFileSync(join(dirname(mainJs), '..', '..', 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const script = manifest.scripts['start:prod']!;
  if (script.includes('memory-flags.js')) {
    const flags = execFileSync(process.execPath, [join(dirname(mainJs), 'config', 'memory-flags.js')], { env, encoding: 'utf8' });
    return flags.split(/\s+/).filter((word) => word.length > 0);
  }
  return script.split(/\s+/).filter((word) => word.startsWith('--'));
}

/**
 * Vigil as in production: its own process and Node flags, auth on, durable SQLite in a temp dir.
 * `mainJs`: another build's entry point (the previous build of `--previous`), else this one.
 */
export async function startVigil(env: Record<string, string> = {}, mainJs = fileURLToPath(new URL('../src/main.js', import.meta.url))): Promise<Server> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-'));
  return startProcess(
    [...productionNodeFlags(mainJs, env), mainJs],
    { PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: `sqlite:${join(dir, 'vigil.db')}`, VIGIL_INGEST_KEYS: BENCH_KEY, LOG_LEVEL: 'warn', ...env },
    '/health/live',
    port,
  );
}

export interface LoadResult {
  requestsPerSecond: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
  /**
   * CPU seconds the server process (every thread) used per second of load, when
   * the server's process id was given and /proc can be read (Linux).
   */
  serverCores?: number;
}

/** User plus system CPU seconds of a process so far, from /proc (undefined elsewhere). */
export function processCpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    // Fields after the parenthesised command name: utime and stime are the 12th and 13th, in clock ticks (100/s).
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/**
 * autocannon against one POST endpoint with a fixed body (JSON unless `headers` name another
 * content type). With the server's pid,
 * also how much CPU the server spent: on a shared machine throughput moves with
 * neighbours, while CPU per request is the steadier measure of the server's cost.
 */
export async function load(
  url: string,
  path: string,
  body: string | Buffer,
  options: { connections: number; seconds: number; headers?: Record<string, string>; serverPid?: number },
): Promise<LoadResult> {
  const cpuBefore = processCpuSeconds(options.serverPid);
  const started = performance.now();
  const result = await autocannon({
    url: `${url}${path}`,
    method: 'POST',
    connections: options.connections,
    duration: options.seconds,
    headers: { 'content-type': 'application/json', ...(options.headers ?? {}) },
    body,
  });
  const cpuAfter = processCpuSeconds(options.serverPid);
  const elapsedSeconds = (performance.now() - started) / 1000;
  return {
    requestsPerSecond: result.requests.average,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    serverCores: cpuBefore !== undefined && cpuAfter !== undefined ? (cpuAfter - cpuBefore) / elapsedSeconds : undefined,
  };
}

/** Peak resident memory of a process so far, in MiB, from /proc (undefined elsewhere). */
export function peakResidentMebibytes(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const kibibytes = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kibibytes === undefined ? undefined : Number(kibibytes) / 1024;
  } catch {
    return undefined;
  }
}

const MEMORY_PART = /^vigil_memory_part_bytes\{part="([^"]+)"\} (\S+)$/gm;

/**
 * Resident memory of a process now (VmRSS) and, from its /metrics, the size of each part of its
 * memory budget (vigil_memory_part_bytes), in MiB; what a build does not expose is left out.
 */
export async function memoryPartsMebibytes(url: string, pid: number | undefined): Promise<Record<string, number>> {
  const parts: Record<string, number> = {};
  try {
    const kibibytes = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    if (kibibytes !== undefined) parts['resident'] = Number(kibibytes) / 1024;
  } catch {
    // not Linux, or the process is gone
  }
  const exposition = await (await fetch(`${url}/metrics`)).text();
  for (const [, part, bytes] of exposition.matchAll(MEMORY_PART)) parts[part!] = Number(bytes) / 1024 / 1024;
  return parts;
}

export function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

const CONSUMER_LAG = /^vigil_consumer_lag_seconds\{consumer="[^"]*"\} (\S+)$/gm;

/**
 * Waits until every derived-state consumer of the server has applied everything
 * ingested (each vigil_consumer_lag_seconds is 0) and returns the seconds it took.
 * Ingest does not wait for the consumers, so after a burst this is how long the
 * derived state (SLA, anomalies, analytics) still trails it.
 */
export async function waitForConsumers(url: string, timeoutSeconds = 600): Promise<number> {
  const started = performance.now();
  for (;;) {
    const exposition = await (await fetch(`${url}/metrics`)).text();
    const lags = [...exposition.matchAll(CONSUMER_LAG)].map((match) => Number(match[1]));
    if (lags.length > 0 && lags.every((seconds) => seconds === 0)) return (performance.now() - started) / 1000;
    if (performance.now() - started > timeoutSeconds * 1000) throw new Error(`consumers still behind after ${timeoutSeconds} s: ${lags.join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The median of `values` (the upper one of an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** A POST /ingest/metrics body of `count` gauge points over ten hosts, timestamped now. */
export function metricsBody(count: number): string {
  const now = Date.now();
  return JSON.stringify({
    metrics: Array.from({ length: count }, (_, index) => ({
      name: 'bench.latency',
      value: 100 + (index % 17),
      type: 'gauge',
      timestamp: now,
      tags: { host: `h${index % 10}`, endpoint: '/users' },
    })),
  });
}

// The bench may read the environment: it is a tool around the service, not the service.
export const BENCH_POSTGRES_URL = process.env['VIGIL_BENCH_POSTGRES_URL'] ?? process.env['VIGIL_TEST_POSTGRES_URL'] ?? 'postgres://root@127.0.0.1:5432/test';

/**
 * A fresh schema `name` in the bench Postgres (BENCH_POSTGRES_URL): the URL that uses it and how
 * to drop it; or why not, when no Postgres answers.
 */
export async function freshPostgresSchema(name: string): Promise<{ url: string; drop: () => Promise<void> } | { problem: string }> {
  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: BENCH_POSTGRES_URL, connectionTimeoutMillis: 5_000 });
    try {
      await client.connect();
      await client.query(statement);
    } finally {
      await client.end().catch(() => undefined);
    }
  };
  try {
    await admin(`create schema ${name}`);
  } catch (error) {
    return { problem: error instanceof Error ? error.message : String(error) };
  }
  const separator = BENCH_POSTGRES_URL.includes('?') ? '&' : '?';
  return { url: `${BENCH_POSTGRES_URL}${separator}options=${encodeURIComponent(`-c search_path=${name}`)}`, drop: () => admin(`drop schema if exists ${name} cascade`) };
}
