import { sqliteDatabase } from '../support/databases.js';
import { ownLogsScenario } from './own-logs.scenario.js';

ownLogsScenario('sqlite', async () => sqliteDatabase());
