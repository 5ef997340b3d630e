/** One refused item of a batch: its index in the batch and why. */
export interface ItemProblem {
  index: number;
  message: string;
}

/**
 * What `IngestService.ingestItems` made of a batch: `accepted` items are durably committed
 * (0 when every item was invalid, and then nothing was appended); `errors` lists the first
 * refused items (at most 100 of `rejected`). An intake turns this into its protocol's answer.
 */
export interface IngestOutcome {
  accepted: number;
  rejected: number;
  errors: ItemProblem[];
}
