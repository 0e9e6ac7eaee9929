export { runBench, formatBenchReport, describeAccelerator } from './run';
export type { BenchOptions, BenchReport, WorkloadResult } from './run';
export { WORKLOADS, WORKLOAD_NAMES, BATCH } from './workloads';
export type { Workload, WorkloadName } from './workloads';
export { runTorchReference, findOpenmpOpenblas, torchPython } from './torch-reference';
export type { TorchResult } from './torch-reference';
