import type { Migrations } from '../../storage/migrator.js';
import * as ingestLog from './0001-ingest-log.js';
import * as ingestLogRuns from './0006-ingest-log-runs.js';
import * as ingestLogPayloadLz4 from './0012-ingest-log-payload-lz4.js';
import * as consumerLeases from './0013-consumer-leases.js';

/** The ingest log's migrations (names are permanent: see Migrations). */
export const INGEST_LOG_MIGRATIONS: Migrations = {
  '0001-ingest-log': ingestLog,
  '0006-ingest-log-runs': ingestLogRuns,
  '0012-ingest-log-payload-lz4': ingestLogPayloadLz4,
  '0013-consumer-leases': consumerLeases,
};
