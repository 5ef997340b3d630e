import type { IntakePlugin } from '../intake.plugin.js';

/** No variables of its own: the project key is one of Vigil's ingest keys. */
class PostHogVariables {}

/** PostHog's capture API (`/batch/`, `/capture/`, `/e/`, `/i/v0/e/`), for PostHog's SDKs. */
export const postHogIntakePlugin: IntakePlugin<Record<string, never>, PostHogVariables> = {
  name: 'posthog',
  variables: PostHogVariables,
  settings: () => ({}),
  browserPaths: ['/batch', '/capture', '/e', '/i/v0/e'],
  module: () => import('./posthog.module.js').then((loaded) => loaded.PostHogIntakeModule),
};
