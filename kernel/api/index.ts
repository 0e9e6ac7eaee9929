/**
 * The perturbation-set API: what `import * as pertset from 'pertset'` gives, and what the
 * notebook kernel preloads as the namespace `pertset`. One namespace per concept; the most used
 * entry points are also re-exported by name.
 */
/** TensorFlow.js itself (the same instance the API uses), so notebook cells can build tensors without an import. */
export * as tf from '@tensorflow/tfjs';
export * as backend from './backend';
export * as data from './data';
export * as perturbations from './perturbations';
export * as corruptions from './corruptions';
export * as pairs from './pairs';
export * as models from './models';
export * as classifiers from './classifiers';
export * as train from './train';
export * as robustTrain from './robust-train';
export * as runs from './runs';
export * as evaluate from './evaluate';
export * as display from './display';
export * as config from './config';
export * as interop from './interop';
export * as reproduce from './reproduce';
export * as robustness from './robustness';
export * as robustEval from './robust-eval';
export * from './errors';
export { createRng } from './random';
export type { Rng } from './random';
export { initBackend } from './backend';
export * as interrupt from './interrupt';
export { PerturbationSet, projectL2, renormColumnsLikeReference, type Projection } from './models/perturbation-set';
export { Trainer } from './train/trainer';
export { RobustTrainer } from './robust-train/trainer';
export { loadConfig } from './config/load';
export { evaluatePerturbationSet, calibrateRadius } from './evaluate';
export { learnPerturbationSet, type LearnedSet, type LearnOptions } from './learn';
export { runMode, RUN_MODES, type RunModeName, type RunModeSettings, type RunModeOptions } from './run-mode';
