import { parentPort } from 'node:worker_threads';
import { SeriesDetectorSet } from './series-detector-set.js';

/** A request to the detection thread; `operation` names a SeriesDetectorSet method. */
export interface DetectionThreadRequest {
  id: number;
  operation: 'reset' | 'observe';
  argument: unknown;
}

export type DetectionThreadReply = { id: number; result: unknown } | { id: number; error: string };

/**
 * The detection thread (DetectionThread starts it): one SeriesDetectorSet, driven by
 * messages handled in order. A request that throws answers with the error; the set
 * stays as it was left, and the caller decides whether to reset it.
 */
const detectors = new SeriesDetectorSet();
const port = parentPort!;

port.on('message', ({ id, operation, argument }: DetectionThreadRequest) => {
  try {
    const result = (detectors[operation] as (argument: unknown) => unknown).call(detectors, argument);
    const transfer = result && typeof result === 'object' && 'modelled' in result ? [(result as { modelled: Uint8Array }).modelled.buffer as ArrayBuffer] : [];
    port.postMessage({ id, result } satisfies DetectionThreadReply, transfer);
  } catch (error) {
    port.postMessage({ id, error: error instanceof Error ? error.message : String(error) } satisfies DetectionThreadReply);
  }
});
