// A worker thread that runs a TypeScript file (workerData.entry) with tsx, as the station will run the sheet reader in a worker.
import { workerData } from 'node:worker_threads';
import { tsImport } from 'tsx/esm/api';

await tsImport(workerData.entry, import.meta.url);
