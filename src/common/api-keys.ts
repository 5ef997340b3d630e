import { createHash, timingSafeEqual } from 'node:crypto';

export type Scope = 'ingest' | 'read' | 'admin';

interface KeyEntry { digest: Buffer; scopes: ReadonlySet<Scope>; id: string }

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * The configured API keys. A presented key is hashed and compared against every
 * configured key's hash with timingSafeEqual, visiting all keys whatever matches,
 * so neither the key's content nor which key matched shows in the timing.
 * Admin implies read and ingest.
 */
export class ApiKeyRing {
  private readonly entries: KeyEntry[] = [];

  constructor(keys: { ingest: string[]; read: string[]; admin: string[] }) {
    const scopesByKey = new Map<string, Set<Scope>>();
    const grant = (key: string, scopes: Scope[]) => {
      const set = scopesByKey.get(key) ?? new Set<Scope>();
      scopes.forEach((scope) => set.add(scope));
      scopesByKey.set(key, set);
    };
    keys.ingest.forEach((key) => grant(key, ['ingest']));
    keys.read.forEach((key) => grant(key, ['read']));
    keys.admin.forEach((key) => grant(key, ['admin', 'read', 'ingest']));
    for (const [key, scopes] of scopesByKey) {
      const digest = sha256(key);
      // The id names a key in logs and rate-limit buckets without revealing it.
      this.entries.push({ digest, scopes, id: digest.subarray(0, 6).toString('hex') });
    }
  }

  get isEmpty(): boolean {
    return this.entries.length === 0;
  }

  /** The matching key's scopes and id, or null for an unknown key. */
  resolve(presented: string): { id: string; scopes: ReadonlySet<Scope> } | null {
    const digest = sha256(presented);
    let match: KeyEntry | null = null;
    for (const entry of this.entries) {
      if (timingSafeEqual(entry.digest, digest)) match = entry;
    }
    return match ? { id: match.id, scopes: match.scopes } : null;
  }
}

/** Reads `Authorization: Bearer <key>` or `X-API-Key: <key>`. */
export function presentedKey(headers: Record<string, string | string[] | undefined>): string | null {
  const authorization = headers['authorization'];
  if (typeof authorization === 'string') {
    const match = /^Bearer\s+(.+)$/i.exec(authorization.trim());
    if (match) return match[1]!.trim();
  }
  const apiKey = headers['x-api-key'];
  if (typeof apiKey === 'string' && apiKey.trim().length > 0) return apiKey.trim();
  return null;
}
