import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { loadavg } from 'node:os';
import type { BenchOptions, BenchRow, BenchSection } from './bench-section.js';
import { BENCH_KEY, load, round, startVigil, processCpuSeconds } from './bench-support.js';

const SECONDS = 5;
const EVENTS = 1000;

/** A free UDP port (asked of TCP: good enough on loopback for a bench). */
async function freeUdpPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

function metricValue(exposition: string, line: RegExp): number {
  const match = line.exec(exposition);
  return match ? Number(match[1]) : 0;
}

/** Sends `lines`-line DogStatsD datagrams as fast as one socket can for `seconds`; how many went. */
async function blastDatagrams(port: number, lines: number, seconds: number): Promise<number> {
  const socket = createSocket('udp4');
  const datagram = Buffer.from(Array.from({ length: lines }, (_, index) => `bench.requests:1|c|#route:/r${index % 10},env:bench`).join('\n'));
  const deadline = performance.now() + seconds * 1000;
  let sent = 0;
  while (performance.now() < deadline) {
    // Batches of sends between yields: the socket's callbacks keep the event loop honest.
    await Promise.all(Array.from({ length: 64 }, () => new Promise<void>((resolve) => socket.send(datagram, port, '127.0.0.1', () => resolve()))));
    sent += 64;
  }
  socket.close();
  return sent;
}

/**
 * The vendor intakes at their clients' usual request sizes, beside Vigil's own JSON endpoint in
 * the same run: Splunk HEC and Elasticsearch bulk with 1000-event requests, and DogStatsD
 * datagrams per second with what was dropped.
 */
export async function run(_options: BenchOptions): Promise<BenchSection> {
  const udpPort = await freeUdpPort();
  const vigil = await startVigil({ VIGIL_DOGSTATSD_PORT: String(udpPort), VIGIL_DOGSTATSD_HOST: '127.0.0.1' });
  const rows: BenchRow[] = [];
  try {
    const now = Date.now();
    const json = JSON.stringify({ logs: Array.from({ length: EVENTS }, (_, index) => ({ message: `payment ${index} failed`, level: 'error', service: 'billing', timestamp: now })) });
    const hec = Array.from({ length: EVENTS }, (_, index) => JSON.stringify({ time: now / 1000, host: 'h1', source: 'billing', event: { message: `payment ${index} failed`, severity: 'error' } })).join('');
    const bulk = Array.from({ length: EVENTS }, (_, index) => `{"create":{"_index":"logs-billing"}}\n${JSON.stringify({ '@timestamp': new Date(now).toISOString(), message: `payment ${index} failed`, 'log.level': 'error', service: 'billing' })}\n`).join('');
    const options = { connections: 10, seconds: SECONDS, serverPid: vigil.process.pid };
    const jsonLoad = await load(vigil.url, '/ingest/logs', json, { ...options, headers: { authorization: `Bearer ${BENCH_KEY}` } });
    const hecLoad = await load(vigil.url, '/services/collector/event', hec, { ...options, headers: { authorization: `Splunk ${BENCH_KEY}`, 'content-type': 'application/x-www-form-urlencoded' } });
    const bulkLoad = await load(vigil.url, '/_bulk', bulk, { ...options, headers: { authorization: `ApiKey ${BENCH_KEY}`, 'content-type': 'application/x-ndjson' } });
    const perSecond = (result: { requestsPerSecond: number }) => Math.round(result.requestsPerSecond * EVENTS);
    const note = (result: { non2xx: number; serverCores?: number }) => `${result.non2xx} non-2xx; server ${round(result.serverCores ?? 0)} cores`;
    rows.push({ name: 'POST /ingest/logs, 1000-log batches (10 connections)', value: perSecond(jsonLoad), unit: 'logs/s', note: note(jsonLoad) });
    rows.push({ name: 'Splunk HEC /services/collector/event, 1000-event requests', value: perSecond(hecLoad), unit: 'events/s', ratio: round(hecLoad.requestsPerSecond / jsonLoad.requestsPerSecond), note: `${note(hecLoad)}; ratio to the JSON endpoint` });
    rows.push({ name: 'Elasticsearch /_bulk, 1000-document requests', value: perSecond(bulkLoad), unit: 'documents/s', ratio: round(bulkLoad.requestsPerSecond / jsonLoad.requestsPerSecond), note: `${note(bulkLoad)}; ratio to the JSON endpoint` });

    const lines = 10;
    const cpuBefore = (processCpuSeconds(vigil.process.pid) ?? 0);
    const sent = await blastDatagrams(udpPort, lines, SECONDS);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    // The server's CPU over the blast and the second after it (the last interval's commit included).
    const serverCpu = (processCpuSeconds(vigil.process.pid) ?? 0) - cpuBefore;
    const hostLoad = loadavg()[0]!;
    const exposition = await (await fetch(`${vigil.url}/metrics`)).text();
    const received = metricValue(exposition, /^vigil_dogstatsd_datagrams_total (\S+)$/m);
    const dropped = metricValue(exposition, /^vigil_dogstatsd_dropped_total\{reason="queue_full"\} (\S+)$/m);
    rows.push({ name: `DogStatsD datagrams of ${lines} counts, one sender, sent`, value: Math.round(sent / SECONDS), unit: 'datagrams/s' });
    rows.push({
      name: 'DogStatsD datagrams received by Vigil',
      value: Math.round(received / SECONDS),
      unit: 'datagrams/s',
      note:
        `${round((100 * (sent - received)) / Math.max(1, sent), 1)} % lost before Vigil read them (kernel buffer); ${dropped} counts dropped with the pending queue full; ` +
        `server ${round(serverCpu / (SECONDS + 1))} cores, ${round((serverCpu * 1e6) / Math.max(1, received), 1)} µs CPU per datagram received; load average ${round(hostLoad, 1)} on this host`,
    });
  } finally {
    await vigil.stop();
  }
  return { title: 'Vendor intakes (Splunk HEC, Elasticsearch bulk, DogStatsD) beside the JSON endpoint', rows };
}
