import { createHash, timingSafeEqual } from 'node:crypto';

export type Scope = 'ingest' | 'read' | 'admin';

interface KeyEntry { digest: Buffer; scopes: ReadonlySet<Scope>; id: string }

export interface ResolvedKey { id: string; scopes: ReadonlySet<Scope> }

/**
 * Whether two texts are equal, in a time that depends only on `presented`'s length:
 * every character of it is compared whatever differs, and nothing of `known` but its
 * equality shows.
 */
function constantTimeEqual(presented: string, known: string): boolean {
  let difference = presented.length ^ known.length;
  // Past known's end charCodeAt gives NaN, which `| 0` turns into 0.
  for (let index = 0; index < presented.length; index++) difference |= presented.charCodeAt(index) ^ (known.charCodeAt(index) | 0);
  return difference === 0;
}

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
  /**
   * The last key presented on each connection and what it resolved to. Clients send the
   * same key with every request of a keep-alive connection, and hashing it each time took
   * about 5 % of the request thread under single-item load. The cached key is compared in
   * constant time too: behind a proxy that pools connections, the previous request on a
   * connection may have come from another client. Entries go with their connection.
   */
  private readonly lastOnConnection = new WeakMap<object, { presented: string; resolved: ResolvedKey | null }>();

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
  resolve(presented: string): ResolvedKey | null {
    const digest = sha256(presented);
    let match: KeyEntry | null = null;
    for (const entry of this.entries) {
      if (timingSafeEqual(entry.digest, digest)) match = entry;
    }
    return match ? { id: match.id, scopes: match.scopes } : null;
  }

  /** resolve(), for a key presented on `connection` (the request's socket; without one, nothing is kept). */
  resolveOn(connection: object | null | undefined, presented: string): ResolvedKey | null {
    if (connection === null || connection === undefined) return this.resolve(presented);
    const last = this.lastOnConnection.get(connection);
    if (last !== undefined && constantTimeEqual(presented, last.presented)) return last.resolved;
    const resolved = this.resolve(presented);
    this.lastOnConnection.set(connection, { presented, resolved });
    return resolved;
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
