import { parentPort } from 'node:worker_threads';
import { getHeapStatistics } from 'node:v8';
import { SeriesDetectorSet } from './series-detector-set.js';

/** A request to the detection thread; `operation` names a SeriesDetectorSet method. */
export interface DetectionThreadRequest {
  id: number;
  operation: 'reset' | 'observe';
  argument: unknown;
}

/**
 * The thread's memory as it answers: its V8 heap as committed, and the bytes held outside that
 * heap (the backing stores of typed arrays, which its resourceLimits do not bound).
 */
export interface DetectionThreadMemory {
  heapBytes: number;
  externalBytes: number;
}

export type DetectionThreadReply = ({ id: number; result: unknown } | { id: number; error: string }) & { memory: DetectionThreadMemory };

/**
 * The buffers a reply gives away: the result's `modelled` flags, and the request's own point
 * arrays (an observe request's `handles`, `timestamps`, `values`), which the thread no longer needs.
 * Why the request's too: a copied typed array's bytes are allocated outside the thread's V8
 * heap and freed only when its collector finds the array dead; this thread allocates little,
 * so it collects rarely, and V8 let ~400 KB a 20,000-point request pile up to its 64 MiB
 * external-memory trigger (resident in the thread's malloc arena ever after). Transferred, they
 * are detached here at once and freed by the main thread's frequent collections.
 */
function buffersToGiveAway(argument: unknown, result: unknown): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  const add = (value: unknown) => {
    if (ArrayBuffer.isView(value) && value.buffer instanceof ArrayBuffer && value.buffer.byteLength > 0) buffers.add(value.buffer);
  };
  if (argument && typeof argument === 'object') for (const field of ['handles', 'timestamps', 'values'] as const) add((argument as Record<string, unknown>)[field]);
  if (result && typeof result === 'object') add((result as Record<string, unknown>)['modelled']);
  return [...buffers];
}

function memory(): DetectionThreadMemory {
  const heap = getHeapStatistics();
  return { heapBytes: heap.total_heap_size, externalBytes: heap.external_memory };
}

/**
 * The detection thread (DetectionThread starts it): one SeriesDetectorSet, driven by
 * messages handled in order. A request that throws answers with the error; the set
 * stays as it was left, and the caller decides whether to reset it. Every reply carries the
 * thread's memory (DetectionThreadMemory), measured before the reply gives its buffers away.
 */
const detectors = new SeriesDetectorSet();
const port = parentPort!;

port.on('message', ({ id, operation, argument }: DetectionThreadRequest) => {
  try {
    const result = (detectors[operation] as (argument: unknown) => unknown).call(detectors, argument);
    port.postMessage({ id, result, memory: memory() } satisfies DetectionThreadReply, buffersToGiveAway(argument, result));
  } catch (error) {
    port.postMessage({ id, error: error instanceof Error ? error.message : String(error), memory: memory() } satisfies DetectionThreadReply);
  }
});
