import { postgresDatabase } from '../support/databases.js';
import { ownLogsScenario } from './own-logs.scenario.js';

ownLogsScenario('postgres', postgresDatabase);
