import { intakeWithoutSettings } from '../intake.plugin.js';

/** Segment's HTTP Tracking API (`/v1/batch`, `/v1/track`, …), for Segment's SDKs. */
export const segmentIntakePlugin = intakeWithoutSettings('segment', () => import('./segment.module.js').then((loaded) => loaded.SegmentIntakeModule), {
  browserPaths: ['/v1/batch', '/v1/track', '/v1/page', '/v1/screen', '/v1/identify', '/v1/alias', '/v1/group'],
});
