/** HTTP helpers of the anomalies e2e tests: ingest series with their own timestamps, read anomalies and the report. */
import assert from 'node:assert/strict';
import { getJson, postJson, type RunningApp } from '../support/app.js';

export const INGEST_KEY = 'anomaly-ingest-key-0123456789';
export const READ_KEY = 'anomaly-read-key-0123456789';
export const KEYS = { VIGIL_INGEST_KEYS: INGEST_KEY, VIGIL_READ_KEYS: READ_KEY };
const ingestAuth = { authorization: `Bearer ${INGEST_KEY}` };
const readAuth = { authorization: `Bearer ${READ_KEY}` };

export interface Point {
  name: string;
  value: number;
  timestamp: number;
  tags?: Record<string, string>;
}

export interface AnomalyRow {
  id: number;
  metric: string;
  tags: Record<string, string>;
  timestamp: string;
  value: number;
  score: number;
  expected: number;
  severity: string;
  methods: string[];
}

export interface MetricReport {
  data_points: number;
  points_processed: number;
  mean: number;
  std: number;
  min: number;
  max: number;
  anomalies: number;
}

export interface Report {
  metrics_monitored: number;
  series_monitored: number;
  total_data_points: number;
  total_points_processed: number;
  models_trained: number;
  anomalies_detected: number;
  points_over_cap: number;
  series_over_cap: number;
  series_evicted: number;
  metrics: Record<string, MetricReport>;
}

/** POSTs the points in batches (every one must be accepted), then waits for the consumers. */
export async function ingestMetrics(vigil: RunningApp, points: readonly Point[], batch = 5000): Promise<void> {
  for (let start = 0; start < points.length; start += batch) {
    const metrics = points.slice(start, start + batch).map((point) => ({ name: point.name, value: point.value, timestamp: point.timestamp, tags: point.tags }));
    const response = await postJson(`${vigil.url}/ingest/metrics`, { metrics }, ingestAuth);
    assert.equal(response.status, 202, response.text);
    assert.equal(response.body['accepted'], metrics.length);
  }
  await vigil.settle();
}

export async function ingestRequests(vigil: RunningApp, requests: ReadonlyArray<{ service: string; durationMs: number; timestamp: number }>): Promise<void> {
  const response = await postJson(`${vigil.url}/ingest/requests`, { requests }, ingestAuth);
  assert.equal(response.status, 202, response.text);
  await vigil.settle();
}

export async function anomalies(vigil: RunningApp, query: Record<string, string> = {}): Promise<AnomalyRow[]> {
  const response = await getJson(`${vigil.url}/anomalies?${new URLSearchParams({ limit: '10000', ...query }).toString()}`, readAuth);
  assert.equal(response.status, 200, response.text);
  return (response.body as { anomalies: AnomalyRow[] }).anomalies;
}

export async function report(vigil: RunningApp): Promise<Report> {
  const response = await getJson(`${vigil.url}/anomalies/report`, readAuth);
  assert.equal(response.status, 200, response.text);
  return response.body as unknown as Report;
}

export function getWithReadKey(url: string) {
  return getJson(url, readAuth);
}
