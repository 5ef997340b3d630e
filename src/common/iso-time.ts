// ISO 8601 date or date-time, with optional fraction and zone.
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;
const HAS_TIME = /[T ]\d{2}:\d{2}/;
const HAS_ZONE = /(?:Z|[+-]\d{2}:?\d{2})$/;

/**
 * Epoch milliseconds of an ISO 8601 date or date-time, or null when the text is
 * not one. A date-time without a zone is UTC, never the server's local time, so
 * every replica reads it the same way.
 */
export function parseIsoInstant(text: string): number | null {
  if (!ISO_8601.test(text)) return null;
  const zoned = !HAS_TIME.test(text) || HAS_ZONE.test(text);
  const parsed = Date.parse(zoned ? text : `${text}Z`);
  return Number.isFinite(parsed) ? parsed : null;
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/** True for an ISO 8601 calendar date without a time (`2026-11-30`). */
export function isDateOnly(text: string): boolean {
  return DATE_ONLY.test(text);
}
