import { POSTGRES_AVAILABLE, postgresDatabase } from '../support/databases.js';
import { ownLogsScenario } from './own-logs.scenario.js';

if (POSTGRES_AVAILABLE) ownLogsScenario('postgres', postgresDatabase);
