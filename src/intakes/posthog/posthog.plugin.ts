import { intakeWithoutSettings } from '../intake.plugin.js';

/** PostHog's capture API (`/batch/`, `/capture/`, `/e/`, `/i/v0/e/`), for PostHog's SDKs. */
export const postHogIntakePlugin = intakeWithoutSettings('posthog', () => import('./posthog.module.js').then((loaded) => loaded.PostHogIntakeModule), {
  browserPaths: ['/batch', '/capture', '/e', '/i/v0/e'],
});
