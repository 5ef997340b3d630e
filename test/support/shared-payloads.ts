import { sharedPayloads } from '../../src/ingest-log/log-entry.js';

// Every test that starts the app or opens a store runs with the guard on: a consumer
// that changes a shared payload throws, and its test fails (see sharedPayloads).
sharedPayloads.frozen = true;
