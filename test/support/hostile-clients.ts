import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { RawConnection, postHead } from './raw-http.js';

/**
 * The connection-level attacks of issue 19, shared by test/e2e/hostile-memory.e2e.test.ts (which
 * asserts what they may not do: hold memory, keep connections, stop /health/live answering) and
 * `npm run bench -- hostile` (which measures how fast /health/live answers meanwhile).
 */
export const MIB = 1024 * 1024;
const BODY_BYTES = 4_900_000;

export function residentBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((row) => row.startsWith('VmRSS:'))!;
  return Number(line.replace(/\D+/g, '')) * 1024;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Probes /health/live every 50 ms from a process of its own, so that the latencies measure Vigil
 * and not this test's event loop, which is busy writing the attack. Stopped through its stdin;
 * it then prints the latencies (ms) as one JSON array.
 */
export function startHealthProber(url: string): { ready: Promise<void>; stop(): Promise<number[]> } {
  const source = `
    const latencies = [];
    let probing = true;
    process.stdin.on('data', () => { probing = false; });
    // Warm up (the first fetch builds the client's connection pool), then report ready.
    for (let warmUp = 0; warmUp < 3; warmUp++) await (await fetch(process.argv[1] + '/health/live')).arrayBuffer();
    process.stdout.write('ready;');
    while (probing) {
      const started = performance.now();
      const response = await fetch(process.argv[1] + '/health/live', { signal: AbortSignal.timeout(5000) });
      if (response.status !== 200) throw new Error('/health/live answered ' + response.status);
      await response.arrayBuffer();
      latencies.push(performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    process.stdout.write(JSON.stringify(latencies));
    process.exit(0);
  `;
  const prober = spawn(process.execPath, ['--input-type=module', '-e', source, url], { stdio: ['pipe', 'pipe', 'inherit'] });
  let output = '';
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  prober.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    if (output.startsWith('ready;')) markReady();
  });
  const exited = new Promise<number | null>((resolve) => prober.once('exit', resolve));
  return {
    ready,
    async stop() {
      prober.stdin.end('stop');
      assert.equal(await exited, 0, 'the health prober failed');
      return JSON.parse(output.slice('ready;'.length)) as number[];
    },
  };
}

/** Sends a body of `BODY_BYTES` as fast as the socket takes it, without ever finishing it. */
export async function floodWithoutKey(url: string): Promise<void> {
  const connection = await RawConnection.open(url);
  connection.write(postHead('/ingest/metrics', { 'content-length': BODY_BYTES + 1 }));
  const chunk = Buffer.alloc(64 * 1024, 'x');
  for (let sent = 0; sent < BODY_BYTES && !connection.isClosed; sent += chunk.length) {
    if (!connection.write(chunk)) break;
    if (connection.socket.writableLength > 1 * MIB) await new Promise((resolve) => connection.socket.once('drain', resolve).once('close', resolve));
  }
  await Promise.race([connection.closed, sleep(15_000)]);
  connection.close();
}

/** Opens a connection that sends its headers and then one byte of body every 200 ms. */
export async function dribble(url: string, headers: Record<string, string>): Promise<RawConnection> {
  const connection = await RawConnection.open(url);
  connection.write(postHead('/ingest/metrics', { 'content-length': BODY_BYTES, ...headers }));
  const timer = setInterval(() => {
    if (!connection.write('x')) clearInterval(timer);
  }, 200);
  void connection.closed.then(() => clearInterval(timer));
  return connection;
}


export interface AttackOutcome {
  idleBytes: number;
  peakBytes: number;
  /** Every /health/live probe's latency, ms, from a process of its own. */
  probeLatencies: number[];
  /** Dribbling connections still open 9 s after they started. */
  stillOpen: number;
}

/**
 * Against a running Vigil (`pid` for its memory): a little real traffic to warm it, then 200
 * connections without a key each sending 4.9 MB that never finishes, then 500 connections
 * dribbling a byte every 200 ms (250 without a key, 250 with `ingestKey`), while /health/live
 * is probed every 50 ms and resident memory sampled every 20 ms.
 */
export async function runConnectionAttack(url: string, pid: number, ingestKey: string): Promise<AttackOutcome> {
  // Idle: after a little real traffic, so that lazily built paths are part of the baseline.
  for (let index = 0; index < 20; index++) {
    await fetch(`${url}/ingest/metrics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ingestKey}` },
      body: JSON.stringify({ metrics: [{ name: 'warm.up', value: index }] }),
    });
  }
  await sleep(1000);
  const idleBytes = residentBytes(pid);
  let peakBytes = idleBytes;
  const memorySampler = setInterval(() => (peakBytes = Math.max(peakBytes, residentBytes(pid))), 20);
  const prober = startHealthProber(url);
  await prober.ready;
  await Promise.all(Array.from({ length: 200 }, () => floodWithoutKey(url)));
  // Those with a key pass authentication and hold their body's reservation until the minimum rate cuts them off.
  const dribblers = await Promise.all([
    ...Array.from({ length: 250 }, () => dribble(url, {})),
    ...Array.from({ length: 250 }, () => dribble(url, { authorization: `Bearer ${ingestKey}` })),
  ]);
  // The minimum-rate window is 5 s, checked every second.
  const deadline = Date.now() + 9000;
  while (dribblers.some((connection) => !connection.isClosed) && Date.now() < deadline) await sleep(100);
  const stillOpen = dribblers.filter((connection) => !connection.isClosed).length;
  for (const connection of dribblers) connection.close();
  clearInterval(memorySampler);
  peakBytes = Math.max(peakBytes, residentBytes(pid));
  return { idleBytes, peakBytes, probeLatencies: await prober.stop(), stillOpen };
}
