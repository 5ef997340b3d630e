import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { startChildVigil } from '../support/child-process.js';
import { sqliteDatabase } from '../support/databases.js';
import { RawConnection, postHead } from '../support/raw-http.js';

/**
 * The attacks of issue 19 against a real Vigil process, measured from outside: connections
 * without a key that send large bodies and never finish, and connections that dribble bodies
 * (with and without a key). The process's resident memory must stay within 64 MiB of its idle
 * size, /health/live must keep answering, and no dribbling connection may outlive the
 * minimum-rate window.
 */
const MIB = 1024 * 1024;
const BODY_BYTES = 4_900_000;

function residentBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((row) => row.startsWith('VmRSS:'))!;
  return Number(line.replace(/\D+/g, '')) * 1024;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Probes /health/live every 50 ms from a process of its own, so that the latencies measure Vigil
 * and not this test's event loop, which is busy writing the attack. Stopped through its stdin;
 * it then prints the latencies (ms) as one JSON array.
 */
function startHealthProber(url: string): { ready: Promise<void>; stop(): Promise<number[]> } {
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
async function floodWithoutKey(url: string): Promise<void> {
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
async function dribble(url: string, headers: Record<string, string>): Promise<RawConnection> {
  const connection = await RawConnection.open(url);
  connection.write(postHead('/ingest/metrics', { 'content-length': BODY_BYTES, ...headers }));
  const timer = setInterval(() => {
    if (!connection.write('x')) clearInterval(timer);
  }, 200);
  void connection.closed.then(() => clearInterval(timer));
  return connection;
}

test('unauthenticated floods and dribbling bodies hold little memory and never starve /health/live', async () => {
  const vigil = await startChildVigil({ DATABASE_URL: sqliteDatabase().url, VIGIL_INGEST_KEYS: 'ingest-key', VIGIL_READ_KEYS: 'read-key' });
  const pid = vigil.process.pid!;
  try {
    // Idle: after a little real traffic, so that lazily built paths are part of the baseline.
    for (let index = 0; index < 20; index++) {
      await fetch(`${vigil.url}/ingest/metrics`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer ingest-key' },
        body: JSON.stringify({ metrics: [{ name: 'warm.up', value: index }] }),
      });
    }
    await sleep(1000);
    const idle = residentBytes(pid);

    let peak = idle;
    const memorySampler = setInterval(() => (peak = Math.max(peak, residentBytes(pid))), 20);
    const prober = startHealthProber(vigil.url);
    await prober.ready;

    // 200 connections without a key, each sending 4.9 MB as fast as it can.
    await Promise.all(Array.from({ length: 200 }, () => floodWithoutKey(vigil.url)));
    // 500 dribbling connections: 250 without a key, 250 with one (these pass authentication and
    // hold their body's reservation until the minimum rate cuts them off).
    const dribblers = await Promise.all([
      ...Array.from({ length: 250 }, () => dribble(vigil.url, {})),
      ...Array.from({ length: 250 }, () => dribble(vigil.url, { authorization: 'Bearer ingest-key' })),
    ]);
    // The minimum-rate window is 5 s, checked every second.
    const deadline = Date.now() + 9000;
    while (dribblers.some((connection) => !connection.isClosed) && Date.now() < deadline) await sleep(100);
    const stillOpen = dribblers.filter((connection) => !connection.isClosed).length;
    for (const connection of dribblers) connection.close();
    clearInterval(memorySampler);
    peak = Math.max(peak, residentBytes(pid));
    const probeLatencies = await prober.stop();

    const growthMib = (peak - idle) / MIB;
    const slowest = Math.max(...probeLatencies);
    process.stdout.write(
      `# idle RSS ${(idle / MIB).toFixed(1)} MiB, peak ${(peak / MIB).toFixed(1)} MiB (+${growthMib.toFixed(1)}); ` +
        `${probeLatencies.length} health probes, slowest ${slowest.toFixed(1)} ms\n`,
    );
    assert.equal(stillOpen, 0, 'every dribbling connection was closed within the minimum-rate window');
    assert.ok(growthMib <= 64, `RSS grew by ${growthMib.toFixed(1)} MiB`);
    assert.ok(probeLatencies.length >= 20, `only ${probeLatencies.length} health probes`);
    assert.ok(slowest < 100, `the slowest /health/live took ${slowest.toFixed(1)} ms`);

    const metrics = await (await fetch(`${vigil.url}/metrics`)).text();
    const refused = (reason: string) => Number(/\S+ (\d+)$/.exec(metrics.split('\n').find((line) => line.includes(`reason="${reason}"`)) ?? 'x 0')![1]);
    assert.ok(refused('body_too_slow') + refused('connections_per_address') + refused('body_bytes_in_flight') >= 250, metrics);
  } finally {
    vigil.process.kill('SIGKILL');
    await vigil.exited;
  }
});
