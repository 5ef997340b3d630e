import type { Migrations } from '../../storage/migrator.js';
import * as analytics from './0004-analytics.js';
import * as identities from './0010-analytics-identities.js';

/** The analytics module's migrations (names are permanent: see Migrations). */
export const ANALYTICS_MIGRATIONS: Migrations = {
  '0004-analytics': analytics,
  '0010-analytics-identities': identities,
};
