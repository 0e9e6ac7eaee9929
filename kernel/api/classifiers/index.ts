/**
 * Downstream classifiers trained against a learned perturbation set (the reference's downstream
 * models): `MNISTConv`, a pre-activation ResNet-18 and a WideResNet
 * (depth/width options) for CIFAR-10 with the reference's channel normalisation.
 *
 * `createClassifier({ architecture: 'mnist_conv', inputShape: [42, 42, 1] }, { seed })`;
 * `classifier.logits(x, training)` → [batch, classes]. Save and load with
 * `runs.saveClassifierCheckpoint` / `runs.loadClassifier` (atomic, TensorFlow.js format).
 */
export { CLASSIFIER_ARCHITECTURES, type Classifier, type ClassifierArchitecture, type ClassifierSpec } from './types';
export { createClassifier, isClassifierArchitecture } from './registry';
export { CIFAR10_MEAN, CIFAR10_STD, type ClassifierOptions } from './base';
