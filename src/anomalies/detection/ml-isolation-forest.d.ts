// Minimal type declaration for ml-isolation-forest 0.1.0 (the package ships no types).
// Only what the detector uses. Internals (forest/TreeNode fields) are declared because
// Only `train` and `predict` are used by isolation-forest.ts.
declare module 'ml-isolation-forest' {
  export interface IsolationTreeNode {
    depth: number;
    maxDepth: number;
    left?: IsolationTreeNode;
    right?: IsolationTreeNode;
    splitColumn?: number;
    splitValue?: number;
    trainingSet?: number[][];
  }

  export class IsolationForest {
    constructor(options?: { nEstimators?: number });
    nEstimators: number;
    forest: IsolationTreeNode[];
    trainingSet: number[][];
    /** Uses Math.random; appends trees to `forest` (use a fresh instance per training). */
    train(trainingSet: number[][]): void;
    /** Anomaly score in (0, 1] per row, 2^(-E[h(x)] / c(n)). */
    predict(data: number[][]): number[];
  }
}
