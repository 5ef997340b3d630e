import assert from 'node:assert/strict';
import type { SlaStatusBody } from '../../src/sla/sla-status.js';
import { getJson, postJson, type RunningApp } from '../support/app.js';

/** What the SLA e2e tests share: their clock, keys, request records and the two HTTP calls they make. */
export const NOW = Date.UTC(2026, 0, 10, 12, 0, 0);
export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;
export const ADMIN_KEY = 'admin-key-0123456789';
export const READ_KEY = 'read-key-0123456789';
export const admin = { authorization: `Bearer ${ADMIN_KEY}` };
export const read = { authorization: `Bearer ${READ_KEY}` };
/** Rounds as /sla/status rounds its percentages: three decimals. */
export const round3 = (value: number) => Math.round(value * 1000) / 1000;

/** One finished request as the tests post it to /ingest/requests. */
export interface Sent {
  service: string;
  durationMs: number;
  success: boolean;
  timestamp: number;
}

/** Posts `records` in requests of at most 5,000 records; each must be accepted whole. */
export async function sendRequests(vigil: RunningApp, records: readonly Sent[]): Promise<void> {
  for (let start = 0; start < records.length; start += 5000) {
    const response = await postJson(`${vigil.url}/ingest/requests`, { requests: records.slice(start, start + 5000) }, admin);
    assert.equal(response.status, 202, response.text);
    assert.equal(response.body.rejected, 0, response.text);
  }
}

/** GET /sla/status/<service>, answered 200. */
export async function slaStatus(vigil: RunningApp, service: string, window?: string): Promise<SlaStatusBody> {
  const response = await getJson(`${vigil.url}/sla/status/${encodeURIComponent(service)}${window ? `?window=${window}` : ''}`, read);
  assert.equal(response.status, 200, response.text);
  return response.body as unknown as SlaStatusBody;
}
