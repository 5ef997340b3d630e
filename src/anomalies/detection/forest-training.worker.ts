import { FlatForest, type ForestParts } from './forest.js';
import type { ForestModel } from './series-detector.js';

/**
 * Runs in a worker thread of ForestTrainer's pool: fits the isolation forest of one
 * model, deterministically (the seed fixes every random choice), and returns it as
 * plain typed arrays.
 */
export default function trainForest(model: Pick<ForestModel, 'sample' | 'seed'>): ForestParts {
  return FlatForest.train(model.sample, model.seed).forest.parts;
}
