import { ALIAS, IDENTIFY, pageOf, PAGE_VIEW } from '../analytics-mapping.js';
import { firstText, isPlainObject } from '../json-values.js';

type Raw = Record<string, unknown>;

/** The Segment call types Vigil takes, and the ones it counts without storing. */
export const SEGMENT_TYPES = ['track', 'page', 'screen', 'identify', 'alias', 'group'] as const;
export type SegmentType = (typeof SEGMENT_TYPES)[number];

export class SegmentBodyError extends Error {}

/**
 * One Segment message onto an analytics item (Segment's spec: https://segment.com/docs/connections/spec/):
 * - the user is `userId`, else `anonymousId`; the session is `properties.sessionId` or
 *   `context.sessionId` (else Vigil infers sessions from inactivity);
 * - `track` → the event name as the type (a feature); `page` → `page_view` on `properties.path`
 *   (else the path of `properties.url`, else the page name); `screen` → `page_view` on the screen name;
 * - `identify` → `identify` joining `anonymousId` to `userId`; `alias` → `alias` joining
 *   `previousId` to `userId`; `group` → `group` with the group id;
 * - `properties` (traits for identify and group) are kept; `timestamp` (ISO) is the event time.
 */
export function segmentMessageToItem(message: unknown, type: string | undefined): Raw {
  const call: Raw = isPlainObject(message) ? message : {};
  const kind = type ?? call['type'];
  const properties = isPlainObject(call['properties']) ? call['properties'] : {};
  const context = isPlainObject(call['context']) ? call['context'] : {};
  const item: Raw = { userId: firstText(call['userId'], call['anonymousId']) ?? call['userId'] };
  const sessionId = firstText(properties['sessionId'], context['sessionId']);
  if (sessionId !== undefined) item['sessionId'] = sessionId;
  if (call['timestamp'] !== undefined) item['timestamp'] = call['timestamp'];
  switch (kind) {
    case 'track':
      item['type'] = call['event'];
      if (Object.keys(properties).length > 0) item['properties'] = properties;
      break;
    case 'page':
    case 'screen': {
      item['type'] = PAGE_VIEW;
      item['page'] = kind === 'page' ? (firstText(properties['path']) ?? pageOf(properties['url']) ?? firstText(call['name'])) : firstText(call['name']);
      if (Object.keys(properties).length > 0) item['properties'] = properties;
      break;
    }
    case 'identify':
      item['type'] = IDENTIFY;
      item['properties'] = { ...(isPlainObject(call['traits']) ? { traits: call['traits'] } : {}), ...(firstText(call['anonymousId']) ? { anonymousId: call['anonymousId'] } : {}) };
      break;
    case 'alias':
      item['type'] = ALIAS;
      item['properties'] = { previousId: call['previousId'] };
      break;
    case 'group':
      item['type'] = 'group';
      item['properties'] = { groupId: call['groupId'], ...(isPlainObject(call['traits']) ? { traits: call['traits'] } : {}) };
      break;
    default:
      // Validation names the problem: a type Vigil does not know is no analytics event.
      item['type'] = undefined;
  }
  return item;
}

/** `/v1/batch` (`{"batch":[…]}`) or a single call on `/v1/<type>`. */
export function decodeSegment(body: unknown, type: SegmentType | undefined): Raw[] {
  if (!isPlainObject(body)) throw new SegmentBodyError('The body must be a JSON object');
  if (type !== undefined) return [segmentMessageToItem(body, type)];
  if (!Array.isArray(body['batch'])) throw new SegmentBodyError('The body must hold a "batch" array');
  return body['batch'].map((message) => segmentMessageToItem(message, undefined));
}

/** Segment's write key: the user name of Basic auth, else `writeKey` in the body (analytics.js). */
export function writeKeyInBody(body: unknown): string | undefined {
  return isPlainObject(body) ? firstText(body['writeKey']) : undefined;
}
