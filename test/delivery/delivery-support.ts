import type { ManualClock } from '../../src/common/clock.js';

/** Moves a ManualClock forward `stepMs` every `everyMs` of real time until stopped. */
export function driveClock(clock: ManualClock, stepMs: number, everyMs = 5): () => void {
  const timer = setInterval(() => clock.advance(stepMs), everyMs);
  return () => clearInterval(timer);
}

/** Polls `predicate` until it holds or `timeoutMs` of real time pass (then throws with `what`). */
export async function waitFor(what: string, predicate: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await predicate()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** One sample of a Prometheus metric from /metrics text; 0 when absent. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const labelText = line.includes('{') ? line.slice(line.indexOf('{') + 1, line.indexOf('}')) : '';
    const present = Object.fromEntries([...labelText.matchAll(/(\w+)="([^"]*)"/g)].map((match) => [match[1], match[2]]));
    if (Object.entries(labels).every(([key, value]) => present[key] === value)) {
      const value = line.slice(line.lastIndexOf(' ') + 1);
      return value === '+Inf' ? Number.POSITIVE_INFINITY : Number(value);
    }
  }
  return 0;
}

export async function metricsText(url: string): Promise<string> {
  return (await fetch(`${url}/metrics`)).text();
}

/** Moves the clock a second at a time until `done()` holds; fails after `realMs` of real time. */
export async function advanceUntil(clock: ManualClock, what: string, done: () => boolean | Promise<boolean>, realMs = 10_000): Promise<void> {
  const deadline = Date.now() + realMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    clock.advance(1000);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
