// ISO 8601 date or date-time, with optional fraction and zone; the parts are captured.
const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-](\d{2}):?(\d{2}))?)?$/;
const HAS_TIME = /[T ]\d{2}:\d{2}/;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/**
 * Epoch milliseconds of an ISO 8601 date or date-time, or null when the text is
 * not one. Parsed strictly: every part must exist on the calendar and the clock
 * (`2026-02-30`, `24:00` and a leap second `:60` are refused, where Date.parse
 * would roll them over into the next month, day or minute). A date-time without a
 * zone is UTC, never the server's local time, so every replica reads it the same way.
 */
export function parseIsoInstant(text: string): number | null {
  const parts = ISO_8601.exec(text);
  if (parts === null) return null;
  const [, year, month, day, hour, minute, second, zone, zoneHours, zoneMinutes] = parts;
  const monthNumber = Number(month);
  if (monthNumber < 1 || monthNumber > 12) return null;
  const dayNumber = Number(day);
  if (dayNumber < 1 || dayNumber > daysInMonth(Number(year), monthNumber)) return null;
  if (hour !== undefined && (Number(hour) > 23 || Number(minute) > 59 || (second !== undefined && Number(second) > 59))) return null;
  if (zoneHours !== undefined && (Number(zoneHours) > 23 || Number(zoneMinutes) > 59)) return null;
  const zoned = !HAS_TIME.test(text) || zone !== undefined;
  const parsed = Date.parse(zoned ? text : `${text}Z`);
  return Number.isFinite(parsed) ? parsed : null;
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/** True for an ISO 8601 calendar date without a time (`2026-11-30`). */
export function isDateOnly(text: string): boolean {
  return DATE_ONLY.test(text);
}
