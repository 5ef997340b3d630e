export * from './series-detector.js';
export * from './backtest.js';
