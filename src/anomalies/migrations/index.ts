import type { Migrations } from '../../storage/migrator.js';
import * as anomalies from './0005-anomalies.js';
import * as detectorVersion2 from './0008-anomaly-detector-v2.js';

/** The anomalies module's migrations (names are permanent: see Migrations). */
export const ANOMALY_MIGRATIONS: Migrations = {
  '0005-anomalies': anomalies,
  '0008-anomaly-detector-v2': detectorVersion2,
};
