/**
 * Interoperability with PyTorch: the exchange format (manifest.json + weights.bin in PyTorch's
 * names and layouts), the name/layout correspondence, and loading a state_dict into a CVAE.
 */
export {
  readTorchWeights, writeTorchWeights, torchManifestPath,
  TORCH_WEIGHTS_FORMAT, TORCH_MANIFEST_FILE, TORCH_WEIGHTS_FILE,
} from './torch-format';
export type { TorchTensor, TorchTensors, TorchTensorEntry, TorchWeightsManifest } from './torch-format';
export { torchKeyOf, toTorchLayout, fromTorchLayout, IGNORED_TORCH_LEAVES } from './torch-names';
export { modelToTorchTensors, loadTorchTensors, inferArchitecture, latentToTorch, latentFromTorch } from './torch-state-dict';
export { importTorchCheckpoint, loadTorchModel, exportScriptPath, DEFAULT_IMPORT_CONFIG } from './import-torch';
export type { ImportTorchOptions, ImportTorchResult } from './import-torch';
