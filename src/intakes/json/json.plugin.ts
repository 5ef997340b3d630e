import type { IntakePlugin } from '../intake.plugin.js';

/** The JSON intake has no variables of its own (VIGIL_MAX_BATCH is ingest's). */
class JsonIntakeVariables {}

/** The JSON intake: `POST /ingest/<kind>` with `{<field>: [...]}`, Vigil's own API. */
export const jsonIntakePlugin: IntakePlugin<Record<string, never>, JsonIntakeVariables> = {
  name: 'json',
  variables: JsonIntakeVariables,
  settings: () => ({}),
  module: () => import('./json.module.js').then((loaded) => loaded.JsonIntakeModule),
};
