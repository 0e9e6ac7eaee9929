/** Architecture name → classifier, as the reference's `classifiers.models` table. */
import { ArgumentError } from '../errors';
import type { ClassifierOptions } from './base';
import { MnistConvClassifier } from './mnist-conv';
import { PreActResNet18 } from './preact-resnet';
import { WideResNet } from './wide-resnet';
import { CLASSIFIER_ARCHITECTURES, type Classifier, type ClassifierArchitecture, type ClassifierSpec } from './types';

const FACTORIES: Record<ClassifierArchitecture, (spec: ClassifierSpec, options: ClassifierOptions) => Classifier> = {
  mnist_conv: (s, o) => new MnistConvClassifier(s, o),
  preact_resnet18: (s, o) => new PreActResNet18(s, o),
  wideresnet: (s, o) => new WideResNet(s, o),
};

export function isClassifierArchitecture(name: string): name is ClassifierArchitecture {
  return (CLASSIFIER_ARCHITECTURES as readonly string[]).includes(name);
}

/**
 * A freshly initialised classifier (PyTorch's default initialisation from `seed`, default 0).
 * Defaults: 10 classes; mnist_conv on 28×28×1, the residual nets on 32×32×3 with CIFAR-10 normalisation.
 */
export function createClassifier(spec: Omit<Partial<ClassifierSpec>, 'architecture'> & { architecture: string }, options: ClassifierOptions = {}): Classifier {
  const architecture = spec.architecture;
  if (!isClassifierArchitecture(architecture)) {
    throw new ArgumentError(`unknown classifier architecture "${architecture}"; expected one of ${CLASSIFIER_ARCHITECTURES.join(', ')}`);
  }
  const residual = architecture !== 'mnist_conv';
  const numClasses = spec.numClasses ?? 10;
  if (!Number.isInteger(numClasses) || numClasses < 2) throw new ArgumentError(`numClasses must be an integer >= 2, got ${numClasses}`);
  const full: ClassifierSpec = {
    architecture,
    inputShape: spec.inputShape ?? (residual ? [32, 32, 3] : [28, 28, 1]),
    numClasses,
    normalize: spec.normalize ?? residual,
  };
  if (architecture === 'wideresnet') {
    full.depth = spec.depth ?? 28;
    full.widthFactor = spec.widthFactor ?? 10;
  }
  return FACTORIES[architecture](full, options);
}
