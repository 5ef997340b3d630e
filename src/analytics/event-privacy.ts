/**
 * Keys of `properties` that would store request metadata (IP addresses, user
 * agents). They are dropped, at any depth, before an event is stored: Vigil's
 * analytics never keep them. Compared case-insensitively with `-`, `_` and `.`
 * removed.
 */
const FORBIDDEN_KEYS = new Set([
  'ip',
  'ipaddress',
  'ipaddr',
  'clientip',
  'remoteip',
  'remoteaddr',
  'remoteaddress',
  'xforwardedfor',
  'xrealip',
  'forwardedfor',
  'useragent',
  'ua',
  'httpuseragent',
]);

function isForbidden(key: string): boolean {
  return FORBIDDEN_KEYS.has(key.toLowerCase().replace(/[-_.\s]/g, ''));
}

function scrub(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(scrub);
  if (value === null || typeof value !== 'object') return value;
  const kept: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
    if (!isForbidden(key)) kept[key] = scrub(inner);
  }
  return kept;
}

/** The properties JSON to store, or null when there is nothing left to store. */
export function storableProperties(properties: Record<string, unknown> | undefined): string | null {
  if (properties === undefined || properties === null) return null;
  const kept = scrub(properties) as Record<string, unknown>;
  return Object.keys(kept).length === 0 ? null : JSON.stringify(kept);
}
