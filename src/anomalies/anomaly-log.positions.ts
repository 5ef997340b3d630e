/**
 * The anomaly consumer's place in the ingest log: the names of its two stored positions and the
 * entry kinds it reads.
 */

/** The position the DerivedStateRunner advances with each batch's transaction. */
export const ANOMALY_CONSUMER = 'anomalies';

/**
 * Second consumer position (registered with ConsumerRegistry, so retention keeps every entry
 * after it): the lowest snapshot id of any series with committed points after its snapshot,
 * i.e. where a reload has to start replaying the log. Written in the same transactions as the
 * snapshots it summarises.
 */
export const ANOMALY_REPLAY_POSITION = 'anomalies-replay';

/** Metric points model their series; request entries model each service's latency. */
export const ANOMALY_KINDS = ['metric', 'request'] as const;
