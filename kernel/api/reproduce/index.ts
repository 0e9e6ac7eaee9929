/** Reproducing the paper's tables in one call each, resuming from the run folders already written. */
export * from './mnist-table';
export * from './robust-table';
