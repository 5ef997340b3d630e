const REDACTED = '[redacted]';

// `scheme://user:password@`: the userinfo of any URL quoted in a message.
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@"'<>]*@/gi;
// `scheme://host/path?query`: the query string of any URL quoted in a message (New Relic and Splunk take keys there).
const URL_QUERY = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s?#"'<>]*)\?[^\s#"'<>]*/gi;

/** A URL fit for a log line: credentials and query string removed. */
export function displayUrl(raw: string): string {
  try {
    const url = new URL(raw);
    url.username = '';
    url.password = '';
    url.search = '';
    return url.toString().replace(/\/$/, '');
  } catch {
    return '(unparseable URL)';
  }
}

/**
 * Removes credentials from text the delivery core is about to log or store as
 * a dead letter's detail: a destination's reasons quote what its client threw
 * and what the vendor (or a proxy in front of it) answered, and either may
 * carry a key. Fetch, for one, quotes a header value it refuses and a URL
 * whose userinfo it refuses, whole.
 *
 * Every configured secret is replaced wherever it occurs, as given, trimmed
 * (fetch trims header values) and JSON-escaped (answers are quoted as JSON),
 * longest first so that a secret containing another goes whole; so are the
 * userinfo and query string of any URL in the text.
 */
export class CredentialRedactor {
  private readonly secrets: string[];

  constructor(secrets: readonly string[]) {
    const variants = new Set<string>();
    for (const secret of secrets) {
      for (const form of [secret, secret.trim()]) {
        if (form === '') continue;
        variants.add(form);
        variants.add(JSON.stringify(form).slice(1, -1));
      }
    }
    this.secrets = [...variants].sort((left, right) => right.length - left.length);
  }

  redact(text: string): string {
    let redacted = text;
    for (const secret of this.secrets) redacted = redacted.split(secret).join(REDACTED);
    return redacted.replace(URL_USERINFO, `$1${REDACTED}@`).replace(URL_QUERY, `$1?${REDACTED}`);
  }
}
