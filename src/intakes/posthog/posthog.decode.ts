import { gunzipSync } from 'node:zlib';
import { ALIAS, IDENTIFY, pageOf, PAGE_VIEW } from '../analytics-mapping.js';
import { firstText, isPlainObject } from '../json-values.js';

type Raw = Record<string, unknown>;

export class PostHogBodyError extends Error {}

/**
 * The body as PostHog's SDKs send it: JSON, gzip-compressed JSON with `?compression=gzip-js`
 * (posthog-js, often as text/plain), or JSON under a `Content-Encoding: gzip` already undone.
 * Gunzip here is bounded by `maxBytes`, as every body is.
 */
export function postHogJson(body: string | Buffer | undefined, maxBytes: number): unknown {
  if (body === undefined || body.length === 0) throw new PostHogBodyError('No data found. Make sure to use a POST request when sending the payload in the body of the request.');
  let text: string;
  if (Buffer.isBuffer(body) && body[0] === 0x1f && body[1] === 0x8b) {
    try {
      text = gunzipSync(body, { maxOutputLength: maxBytes }).toString('utf8');
    } catch {
      throw new PostHogBodyError('Malformed request data: the body is not valid gzip or is too large');
    }
  } else text = body.toString();
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new PostHogBodyError(`Malformed request data: ${(error as Error).message}`);
  }
}

/**
 * One PostHog event onto an analytics item: the user is `distinct_id` (or `properties.distinct_id`),
 * the session `properties.$session_id`; `$pageview` → `page_view` on `$pathname` (else the path
 * of `$current_url`); `$identify` → `identify` joining `$anon_distinct_id` to the user;
 * `$create_alias` → `alias` joining `alias` to the user; any other event → its name as the type;
 * the properties are kept but PostHog's own `$lib*` bookkeeping; `timestamp` is the event time.
 */
export function postHogEventToItem(event: unknown): Raw {
  const call: Raw = isPlainObject(event) ? event : {};
  const properties: Raw = isPlainObject(call['properties']) ? { ...call['properties'] } : {};
  const item: Raw = { userId: firstText(call['distinct_id'], properties['distinct_id'], properties['$distinct_id']) ?? call['distinct_id'] };
  const sessionId = firstText(properties['$session_id']);
  if (sessionId !== undefined) item['sessionId'] = sessionId;
  if (call['timestamp'] !== undefined) item['timestamp'] = call['timestamp'];
  for (const name of ['$lib', '$lib_version', '$is_server', '$geoip_disable', 'distinct_id']) delete properties[name];
  switch (call['event']) {
    case '$pageview':
      item['type'] = PAGE_VIEW;
      item['page'] = firstText(properties['$pathname']) ?? pageOf(properties['$current_url']);
      break;
    case '$identify':
      item['type'] = IDENTIFY;
      if (firstText(properties['$anon_distinct_id']) !== undefined) properties['anonymousId'] = properties['$anon_distinct_id'];
      break;
    case '$create_alias':
      item['type'] = ALIAS;
      if (firstText(properties['alias']) !== undefined) properties['previousId'] = properties['alias'];
      break;
    default:
      item['type'] = call['event'];
  }
  if (Object.keys(properties).length > 0) item['properties'] = properties;
  return item;
}

/** `{"api_key","batch":[…]}`, one event `{"api_key","event",…}`, or an array of events. */
export function decodePostHog(json: unknown): { apiKey: string | undefined; items: Raw[] } {
  if (Array.isArray(json)) {
    return { apiKey: firstText(...json.map((event) => (isPlainObject(event) ? event['api_key'] : undefined))), items: json.map(postHogEventToItem) };
  }
  if (!isPlainObject(json)) throw new PostHogBodyError('Malformed request data: the body must be an event, a batch or an array of events');
  const apiKey = firstText(json['api_key'], json['token']);
  if (Array.isArray(json['batch'])) return { apiKey, items: json['batch'].map(postHogEventToItem) };
  return { apiKey, items: [postHogEventToItem(json)] };
}
