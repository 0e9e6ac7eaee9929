/**
 * Plotly figures with our own bundled plotly.js-dist, loaded as a lazy chunk on the first chart
 * and rendered in LIGHT DOM: plotly injects its CSS into document.head, so inside a shadow root
 * the title and legend layer would fall below the plot and the mode bar would be unstyled.
 */
import { DEFAULT_CHART_HEIGHT, type PlotlyFigure } from '../../kernel/contract/payloads';
import type { Cleanup, RenderArgs } from '../shared/renderer-host';
import { themeColours, themedLayout } from './theme';

type Plotly = typeof import('plotly.js-dist').default;

let loading: Promise<Plotly> | undefined;

function loadPlotly(): Promise<Plotly> {
  loading ??= import('plotly.js-dist').then((m) => (m.default ?? m) as Plotly);
  return loading;
}

export async function renderPlotly({ payload, root, signal }: RenderArgs<PlotlyFigure, never>): Promise<Cleanup> {
  const container = document.createElement('div');
  container.className = 'pertset-plotly';
  container.style.width = '100%';
  root.appendChild(container);
  const Plotly = await loadPlotly();
  if (signal.aborted) return () => container.remove();
  // An explicit height: with none, plotly sizes itself to VS Code's output element, which has
  // no height of its own, and the chart collapses to a strip. The width follows the output.
  const given = { height: DEFAULT_CHART_HEIGHT, ...payload.layout };
  const layout = themedLayout(given, themeColours(container));
  const config = { responsive: true, displaylogo: false, ...payload.config };
  await Plotly.newPlot(container, payload.data, layout, config);
  // Plotly needs concrete colours, so a theme switch (VS Code changes the webview's classes and
  // variables, and does not re-render outputs) is followed by a relayout with the new colours.
  const onThemeChange = (): void => void Plotly.relayout(container, themedLayout(given, themeColours(container)));
  const observer = new MutationObserver(onThemeChange);
  observer.observe(document.body, { attributes: true, attributeFilter: ['class'] });
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ['class', 'style'] });
  return () => {
    observer.disconnect();
    Plotly.purge(container);
    container.remove();
  };
}
