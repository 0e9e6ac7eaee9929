/**
 * Parity of our three CVAEs with an independent PyTorch twin (scripts/torch/twin_models.py): the same weights
 * (exported through the importer's format) and inputs must give the same prior and recognition
 * Gaussians, generator output, KL, reconstruction and encoder approximation error (eval mode,
 * within 1e-4 relative), and the same training-mode pass: batch-norm running statistics and
 * the gradient of the ELBO with respect to every parameter.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../kernel/api/backend';
import {
  latentToTorch, modelToTorchTensors, readTorchWeights, toTorchLayout, torchKeyOf, writeTorchWeights,
  type TorchTensor,
} from '../../kernel/api/interop';
import { createCVAE, klDiagonalGaussian, reconstructionFromLogits, type CVAE } from '../../kernel/api/models';
import { createRng } from '../../kernel/api/random';
import { assertClose, fromNCHW, runTwin, tempDir, toNCHW } from './helpers';
import { DEPENDENCIES, need } from '../helpers/env';

const BATCH = 4;
const FORWARD_REL = 1e-4;
const GRAD_REL = 1e-3;

/** Moves every variable away from its initial value so no layer is trivially the identity. */
function scramble(model: CVAE, seed: string): void {
  const rng = createRng(seed);
  tf.tidy(() => {
    for (const [name, v] of model.variables) {
      const values = v.dataSync().slice() as Float32Array;
      const set = (f: (old: number) => number): void => { for (let i = 0; i < values.length; i++) values[i] = f(values[i]); };
      if (/stns\/\d+\/fc\/kernel$/.test(name)) set(() => rng.uniformRange(-0.05, 0.05));
      else if (/stns\/\d+\/fc\/bias$/.test(name)) set((o) => o + rng.uniformRange(-0.2, 0.2));
      else if (name.endsWith('/gamma')) set(() => rng.uniformRange(0.5, 1.5));
      else if (name.endsWith('/beta') || name.endsWith('/moving_mean')) set(() => rng.uniformRange(-0.2, 0.2));
      else if (name.endsWith('/moving_variance')) set(() => rng.uniformRange(0.5, 2));
      else continue;
      v.assign(tf.tensor(values, v.shape));
    }
  });
}

function images(model: CVAE, seed: string): { x: tf.Tensor4D; xt: tf.Tensor4D } {
  const rng = createRng(seed);
  const [h, w, c] = model.inputShape;
  const n = BATCH * h * w * c;
  const x = Float32Array.from({ length: n }, () => (rng.uniform() < 0.3 ? rng.uniform() : 0));
  const xt = x.map((v) => Math.min(1, Math.max(0, v + rng.uniformRange(-0.3, 0.3))));
  return { x: tf.tensor4d(x, [BATCH, h, w, c]), xt: tf.tensor4d(xt, [BATCH, h, w, c]) };
}

function normals(n: number, seed: string): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n }, () => rng.normal());
}

/** A latent-shaped tensor (ours: flattened) in PyTorch's layout. */
const latentTorch = (model: CVAE, t: tf.Tensor2D): TorchTensor => latentToTorch(model, t.dataSync() as Float32Array, BATCH);

for (const arch of ['mnist_fc', 'mnist_conv', 'mnist_stn'] as const) {
  test(`${arch} agrees with the PyTorch twin (forward, KL, recon, encoder AE, train-mode BN, gradients)`, async (t) => {
    if (!need(t, DEPENDENCIES.torch)) return;
    const backend = await initBackend();
    const model = createCVAE(arch, { seed: 11 });
    const dir = tempDir(arch);
    try {
      scramble(model, `${arch}/scramble`);
      const { x, xt } = images(model, `${arch}/images`);
      const z = tf.tensor2d(normals(BATCH * model.latentDim, `${arch}/z`), [BATCH, model.latentDim]);
      const noise = tf.tensor2d(normals(BATCH * model.latentDim, `${arch}/noise`), [BATCH, model.latentDim]);
      writeTorchWeights(`${dir}/weights`, modelToTorchTensors(model));

      // Ours, eval mode.
      const p = model.prior(x);
      const q = model.recognition(x, xt);
      const logits = model.generateLogits(x, z);
      const kl = klDiagonalGaussian(q, p);
      const recon = reconstructionFromLogits(logits, xt);
      // Encoder AE: radius = the median norm, so some codes are renormed and some are not.
      const u = tf.div(tf.sub(q.mu, p.mu), tf.exp(tf.mul(p.logvar, 0.5)));
      const norms = Array.from(tf.norm(u, 2, 1).dataSync()).sort((a, b) => a - b);
      const radius = (norms[1] + norms[2]) / 2;
      const scale = tf.minimum(1, tf.div(radius, tf.norm(u, 2, 1, true)));
      const zEnc = tf.add(p.mu, tf.mul(tf.exp(tf.mul(p.logvar, 0.5)), tf.mul(u, scale))) as tf.Tensor2D;
      const pixels = model.inputShape.reduce((a, b) => a * b, 1);
      const encoderAE = tf.div(reconstructionFromLogits(model.generateLogits(x, zEnc), xt), pixels);

      writeTorchWeights(`${dir}/inputs`, [
        ['x', toNCHW(x)], ['x_perturbed', toNCHW(xt)], ['z', latentTorch(model, z)], ['noise', latentTorch(model, noise)],
      ]);
      runTwin(['model', arch, `${dir}/weights`, `${dir}/inputs`, `${dir}/out`, String(radius)]);
      const theirs = readTorchWeights(`${dir}/out`);
      const get = (k: string): TorchTensor => {
        const v = theirs.get(k);
        if (!v) throw new Error(`PyTorch twin did not write "${k}"`);
        return v;
      };
      const worst: Record<string, number> = {};
      const cmp = (what: string, ours: ArrayLike<number>, key: string, rel = FORWARD_REL): void => {
        worst[what] = assertClose(`${arch} ${what}`, ours, get(key).data, rel);
      };
      cmp('prior μ', latentTorch(model, p.mu).data, 'prior_mu');
      cmp('prior logvar', latentTorch(model, p.logvar).data, 'prior_logvar');
      cmp('recognition μ', latentTorch(model, q.mu).data, 'recog_mu');
      cmp('recognition logvar', latentTorch(model, q.logvar).data, 'recog_logvar');
      cmp('generator output', toNCHW(tf.sigmoid(logits) as tf.Tensor4D).data, 'generated');
      cmp('KL', kl.dataSync(), 'kl');
      cmp('reconstruction', recon.dataSync(), 'recon');
      cmp('encoder AE', encoderAE.dataSync(), 'encoder_ae');

      // Training mode: one ELBO evaluation with the same noise; gradients and updated BN statistics.
      const { value, grads } = tf.variableGrads(() => {
        const pt = model.prior(x, true);
        const qt = model.recognition(x, xt, true);
        const zq = tf.add(qt.mu, tf.mul(noise, tf.exp(tf.mul(qt.logvar, 0.5)))) as tf.Tensor2D;
        return tf.sum(tf.add(reconstructionFromLogits(model.generateLogits(x, zq, true), xt), klDiagonalGaussian(qt, pt)));
      }, model.trainableVariables());
      cmp('train-mode ELBO', value.dataSync(), 'train_loss');
      const names = new Map([...model.variables].map(([n, v]) => [v.name, n]));
      for (const [tfName, g] of Object.entries(grads)) {
        const name = names.get(tfName) as string;
        if (/block\/conv1\/bias$/.test(name)) {
          // This bias feeds a training-mode batch norm, which subtracts the batch mean: its
          // gradient is zero analytically, so both sides hold only rounding noise. Check that.
          const kernelGrad = get(`grad/${torchKeyOf(name.replace(/bias$/, 'kernel'))}`).data;
          const rms = Math.sqrt(kernelGrad.reduce((a, v) => a + v * v, 0) / kernelGrad.length);
          const ours = g.dataSync();
          const tiny = (a: ArrayLike<number>): boolean => Array.from(a).every((v) => Math.abs(v) <= 1e-3 * rms);
          assert.ok(tiny(ours) && tiny(get(`grad/${torchKeyOf(name)}`).data), `${arch} ∂ELBO/∂${name} should vanish`);
          continue;
        }
        cmp(`∂ELBO/∂${name}`, toTorchLayout(name, g.shape, g.dataSync() as Float32Array).data, `grad/${torchKeyOf(name)}`, GRAD_REL);
      }
      for (const [name, v] of model.variables) {
        if (!name.includes('moving_')) continue;
        cmp(`${name} after one training step`, v.dataSync(), `after_train/${torchKeyOf(name)}`);
      }
      const top = (grad: boolean): string => {
        const [k, r] = Object.entries(worst).filter(([n]) => n.startsWith('∂') === grad).sort((a, b) => b[1] - a[1])[0];
        return `${k} ${r.toExponential(1)}`;
      };
      t.diagnostic(`${arch} on ${backend.name}: worst relative difference, forward/losses/BN: ${top(false)}; gradients: ${top(true)}; radius ${radius.toFixed(3)}`);
      tf.dispose([x, xt, z, noise, p.mu, p.logvar, q.mu, q.logvar, logits, kl, recon, u, scale, zEnc, encoderAE, value]);
      tf.dispose(Object.values(grads));
    } finally {
      model.dispose();
    }
  });
}
