/**
 * Resolves after `milliseconds` of real time, or at once (without error) when `signal` aborts.
 * With `unref`, the timer does not keep the process alive.
 */
export function abortableDelay(milliseconds: number, signal?: AbortSignal, options: { unref?: boolean } = {}): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, milliseconds);
    if (options.unref) timer.unref();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
