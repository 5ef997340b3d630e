/** Two bounds closer than this (relatively) are one edge: `(√2)^4` and `2^2` are both 4. */
const SAME_EDGE = 1e-9;

/**
 * Bucket counts (`counts.length === from.length + 1`, the last bucket above the last bound) moved
 * onto other bounds: each bucket's count goes to the first new bucket whose upper bound is at or
 * above its own upper bound. Exact when every old bucket lies within one new bucket (an exponential
 * histogram at a lower scale, or bounds that are a subset); otherwise the nearest coarser picture.
 */
export function rebucket(counts: readonly number[], from: readonly number[], to: readonly number[]): number[] {
  const moved = new Array<number>(to.length + 1).fill(0);
  let target = 0;
  for (let index = 0; index < counts.length; index++) {
    const upper = index < from.length ? from[index]! : Number.POSITIVE_INFINITY;
    while (target < to.length && upper > to[target]! + Math.abs(to[target]!) * SAME_EDGE) target++;
    moved[target]! += counts[index]!;
  }
  return moved;
}

export function sameBounds(left: readonly number[], right: readonly number[]): boolean {
  return left.length === right.length && left.every((bound, index) => bound === right[index]);
}
