import type { Migration } from 'kysely';
import * as ingestLog from './0001-ingest-log.js';
import * as delivery from './0002-delivery.js';
import * as sla from './0003-sla.js';
import * as analytics from './0004-analytics.js';
import * as anomalies from './0005-anomalies.js';
import * as ingestLogRuns from './0006-ingest-log-runs.js';
import * as slaExactLatencies from './0007-sla-exact-latencies.js';

/**
 * Every migration, in order. Names are permanent once released: add new ones at
 * the end, never edit one that has run somewhere.
 */
export const MIGRATIONS: Record<string, Migration> = {
  '0001-ingest-log': ingestLog,
  '0002-delivery': delivery,
  '0003-sla': sla,
  '0004-analytics': analytics,
  '0005-anomalies': anomalies,
  '0006-ingest-log-runs': ingestLogRuns,
  '0007-sla-exact-latencies': slaExactLatencies,
};
