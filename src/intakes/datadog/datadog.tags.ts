/**
 * Datadog's `key:value` tag strings onto Vigil's tags. A tag without a colon (`canary`) is kept
 * with the value `true`; a repeated key keeps its last value (Vigil's tags are a map).
 */
export function tagsFromDatadog(tags: unknown, extra: Record<string, string> = {}): Record<string, string> {
  const result: Record<string, string> = {};
  if (Array.isArray(tags)) {
    for (const tag of tags) {
      if (typeof tag !== 'string' || tag.length === 0) continue;
      const colon = tag.indexOf(':');
      if (colon === -1) result[tag] = 'true';
      else if (colon > 0) result[tag.slice(0, colon)] = tag.slice(colon + 1);
    }
  }
  return { ...result, ...extra };
}

/** A comma-separated `ddtags` value (`env:test,team:web`) as tags. */
export function tagsFromDatadogList(list: unknown): Record<string, string> {
  return typeof list === 'string' ? tagsFromDatadog(list.split(',').map((tag) => tag.trim())) : {};
}
