/**
 * Remembers what was derived from the last key order seen, so a caller that meets
 * object after object with the same keys in the same order (the items of a batch:
 * each has its own tags object, all with one shape) derives it once, and checking the
 * memo allocates nothing. Any other key order derives anew and replaces the memo.
 */
export class KeyOrderMemo<Derived> {
  private keys: readonly string[] = [];
  private derived: Derived | undefined;

  constructor(private readonly derive: (keys: string[]) => Derived) {}

  of(object: object): Derived {
    if (this.derived !== undefined && hasKeysInOrder(object, this.keys)) return this.derived;
    const keys = Object.keys(object);
    this.derived = this.derive([...keys]);
    this.keys = keys;
    return this.derived;
  }
}

/** True when `object`'s own enumerable keys are exactly `keys`, in that order. */
function hasKeysInOrder(object: object, keys: readonly string[]): boolean {
  let index = 0;
  for (const key in object) {
    if (!Object.prototype.hasOwnProperty.call(object, key) || key !== keys[index]) return false;
    index++;
  }
  return index === keys.length;
}
