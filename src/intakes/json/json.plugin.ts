import { intakeWithoutSettings } from '../intake.plugin.js';

/** The JSON intake: `POST /ingest/<kind>` with `{<field>: [...]}`, Vigil's own API (VIGIL_MAX_BATCH is ingest's). */
export const jsonIntakePlugin = intakeWithoutSettings('json', () => import('./json.module.js').then((loaded) => loaded.JsonIntakeModule));
