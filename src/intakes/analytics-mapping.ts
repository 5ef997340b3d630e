/**
 * Shared by the product-analytics intakes (Segment, PostHog): how their calls become Vigil's
 * analytics items, which know a user, a session, a type and a page. Vigil's analytics count
 * `page_view` events by page and every other type as a feature (src/analytics/).
 */

export const PAGE_VIEW = 'page_view';
/** An anonymous id joined to a user (Segment identify, PostHog $identify): `properties.anonymousId`. */
export const IDENTIFY = 'identify';
/** An earlier id joined to a user (Segment alias, PostHog $create_alias): `properties.previousId`. */
export const ALIAS = 'alias';

/** The path of a URL (`https://x/pricing?a=1` → `/pricing`); the text itself when it is no URL. */
export function pageOf(url: unknown): string | undefined {
  if (typeof url !== 'string' || url.length === 0) return undefined;
  try {
    return new URL(url).pathname;
  } catch {
    return url;
  }
}
