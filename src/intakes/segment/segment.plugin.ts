import type { IntakePlugin } from '../intake.plugin.js';

/** No variables of its own: the write key is one of Vigil's ingest keys. */
class SegmentVariables {}

/** Segment's HTTP Tracking API (`/v1/batch`, `/v1/track`, …), for Segment's SDKs. */
export const segmentIntakePlugin: IntakePlugin<Record<string, never>, SegmentVariables> = {
  name: 'segment',
  variables: SegmentVariables,
  settings: () => ({}),
  browserPaths: ['/v1/batch', '/v1/track', '/v1/page', '/v1/screen', '/v1/identify', '/v1/alias', '/v1/group'],
  module: () => import('./segment.module.js').then((loaded) => loaded.SegmentIntakeModule),
};
