/**
 * `pertset kernel install|uninstall|list`: manages the `pertset` Jupyter kernelspec without Python.
 */
import { ConfigError } from '../../api/errors';
import { DISPLAY_NAME, installKernelSpec, KERNEL_NAME, listKernelSpecs, uninstallKernelSpec, type InstallTarget } from '../../jupyter/kernelspec';
import { parse } from '../args';
import type { Command } from '../main';

const USAGE = `usage: pertset kernel install [--user | --prefix DIR | --jupyter-path DIR]
       pertset kernel uninstall [--user | --prefix DIR | --jupyter-path DIR]
       pertset kernel list
  install     writes the kernelspec "${KERNEL_NAME}" ("${DISPLAY_NAME}") with absolute paths to this
              node and this package's launcher, so editors started without npm on PATH find it
  uninstall   removes it again
  list        the kernelspecs Jupyter sees (JUPYTER_PATH, the user's data dir, system dirs)
  --user              the user's Jupyter data dir (default; $JUPYTER_DATA_DIR if set)
  --prefix DIR        DIR/share/jupyter (e.g. a virtualenv or conda prefix)
  --jupyter-path DIR  DIR itself; point clients at it with JUPYTER_PATH=DIR`;

function target(values: Record<string, unknown>): InstallTarget {
  const chosen = ['user', 'prefix', 'jupyter-path'].filter((k) => values[k] !== undefined);
  if (chosen.length > 1) throw new ConfigError(`choose one of --user, --prefix, --jupyter-path (got ${chosen.map((c) => `--${c}`).join(', ')})`);
  if (typeof values.prefix === 'string') return { prefix: values.prefix };
  if (typeof values['jupyter-path'] === 'string') return { jupyterPath: values['jupyter-path'] };
  return { user: true };
}

export const command: Command = {
  summary: 'install, uninstall or list the pertset Jupyter kernel',
  usage: USAGE,
  async run(argv) {
    const [action, ...rest] = argv;
    const options = { user: { type: 'boolean' }, prefix: { type: 'string' }, 'jupyter-path': { type: 'string' } } as const;
    switch (action) {
      case 'install': {
        const dir = installKernelSpec(target(parse('kernel install', rest, options).values));
        console.log(`installed kernelspec "${KERNEL_NAME}" in ${dir}`);
        return 0;
      }
      case 'uninstall': {
        const dir = uninstallKernelSpec(target(parse('kernel uninstall', rest, options).values));
        console.log(dir ? `removed kernelspec "${KERNEL_NAME}" from ${dir}` : `no kernelspec "${KERNEL_NAME}" there`);
        return dir ? 0 : 1;
      }
      case 'list': {
        parse('kernel list', rest, {});
        const kernels = listKernelSpecs();
        if (kernels.length === 0) console.log('no kernelspecs found');
        for (const k of kernels) console.log(`${k.name.padEnd(16)} ${k.dir}  (${k.spec.display_name ?? ''})`);
        return 0;
      }
      default:
        throw new ConfigError(`expected "install", "uninstall" or "list", got ${action === undefined ? 'nothing' : `"${action}"`} (see \`pertset kernel --help\`)`);
    }
  },
};
