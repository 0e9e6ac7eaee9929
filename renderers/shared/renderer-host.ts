/**
 * The boilerplate every renderer shares: parse and validate the payload, render idempotently
 * (a re-render of the same element first disposes the previous one), keep per-output UI state
 * keyed by output id, clean up on dispose, and turn any failure into a readable error box.
 */
import type { ActivationFunction, OutputItem, RendererContext } from 'vscode-notebook-renderer';
import { h } from './safe-dom';
import { ERROR_BOX_INLINE_STYLE, widgetStyleSheet } from './styles';

/** Undo everything a render did (listeners, timers, library state). */
export type Cleanup = () => void;

export interface OutputState<S> {
  get(): S | undefined;
  set(value: S): void;
}

export interface RenderArgs<P, S> {
  payload: P;
  /** Where to build the output: a shadow root for our widgets, the element itself for light DOM. */
  root: ShadowRoot | HTMLElement;
  element: HTMLElement;
  state: OutputState<S>;
  signal: AbortSignal;
}

export interface RendererSpec<P, S> {
  /** Human name used in the error box ("Cannot render image grid: ..."). */
  what: string;
  validate(value: unknown): P;
  render(args: RenderArgs<P, S>): Cleanup | Promise<Cleanup>;
  /** Plotly needs light DOM: its CSS lives in document.head and does not reach a shadow tree. */
  lightDom?: boolean;
}

/** Renderer-wide state persisted by VS Code in the webview; one entry per output id. */
interface PersistedState {
  outputs?: Record<string, unknown>;
}

export function defineRenderer<P, S>(spec: RendererSpec<P, S>): ActivationFunction<PersistedState> {
  return (context: RendererContext<PersistedState>) => {
    const cleanups = new Map<string, Cleanup>();

    const dispose = (id: string): void => {
      const cleanup = cleanups.get(id);
      cleanups.delete(id);
      if (cleanup) {
        try {
          cleanup();
        } catch (err) {
          console.error(`pertset renderer: cleanup of ${id} failed`, err);
        }
      }
    };

    const stateFor = (id: string): OutputState<S> => ({
      get: () => context.getState()?.outputs?.[id] as S | undefined,
      set: (value: S) => {
        const prev = context.getState() ?? {};
        context.setState({ ...prev, outputs: { ...prev.outputs, [id]: value } });
      },
    });

    return {
      async renderOutputItem(item: OutputItem, element: HTMLElement, signal: AbortSignal) {
        dispose(item.id);
        const root = prepareRoot(element, spec.lightDom === true);
        try {
          const payload = spec.validate(readJson(item));
          const cleanup = await spec.render({ payload, root, element, state: stateFor(item.id), signal });
          if (signal.aborted) cleanup();
          else cleanups.set(item.id, cleanup);
        } catch (err) {
          if (signal.aborted) return;
          clear(root);
          root.appendChild(errorBox(spec.what, err));
        }
      },
      disposeOutputItem(id?: string) {
        // `undefined` means every output of this renderer is going away.
        for (const key of id === undefined ? [...cleanups.keys()] : [id]) dispose(key);
      },
    };
  };
}

function readJson(item: OutputItem): unknown {
  try {
    return item.json();
  } catch (err) {
    throw new Error(`the ${item.mime} output is not valid JSON (${(err as Error).message})`);
  }
}

function prepareRoot(element: HTMLElement, lightDom: boolean): ShadowRoot | HTMLElement {
  if (lightDom) {
    element.shadowRoot?.replaceChildren();
    clear(element);
    return element;
  }
  const root = element.shadowRoot ?? element.attachShadow({ mode: 'open' });
  root.adoptedStyleSheets = [widgetStyleSheet()];
  clear(root);
  return root;
}

function clear(node: ShadowRoot | HTMLElement): void {
  node.replaceChildren();
}

export function errorBox(what: string, err: unknown): HTMLElement {
  const message = err instanceof Error ? err.message : String(err);
  const box = h('div', { className: 'pertset-error', attrs: { role: 'alert', style: ERROR_BOX_INLINE_STYLE } });
  box.appendChild(h('strong', { text: `Cannot render ${what}` }));
  box.appendChild(document.createTextNode(`: ${message}`));
  return box;
}
