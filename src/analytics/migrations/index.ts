import type { Migrations } from '../../storage/migrator.js';
import * as analytics from './0004-analytics.js';

/** The analytics module's migrations (names are permanent: see Migrations). */
export const ANALYTICS_MIGRATIONS: Migrations = {
  '0004-analytics': analytics,
};
