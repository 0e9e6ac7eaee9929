/**
 * Plotly colours from the VS Code theme: transparent backgrounds, the editor's foreground for
 * text and a faint foreground for grid lines. A figure's own layout always wins.
 */
type Layout = Record<string, unknown>;

export interface ThemeColours {
  foreground: string;
  grid: string;
  fontFamily: string;
}

/** Resolves the theme variables through a probe element (plotly needs concrete colours). */
export function themeColours(container: HTMLElement): ThemeColours {
  const probe = document.createElement('span');
  probe.style.color = 'var(--vscode-editor-foreground, #1f1f1f)';
  probe.style.fontFamily = 'var(--vscode-font-family, system-ui, sans-serif)';
  container.appendChild(probe);
  const style = getComputedStyle(probe);
  const foreground = style.color || '#1f1f1f';
  const fontFamily = style.fontFamily || 'sans-serif';
  probe.remove();
  const rgb = foreground.match(/\d+(\.\d+)?/g);
  const grid = rgb && rgb.length >= 3 ? `rgba(${rgb[0]}, ${rgb[1]}, ${rgb[2]}, 0.15)` : 'rgba(128, 128, 128, 0.25)';
  return { foreground, grid, fontFamily };
}

export function themedLayout(layout: Layout | undefined, colours: ThemeColours): Layout {
  const given = layout ?? {};
  const axis = (key: string): Layout => ({
    gridcolor: colours.grid,
    zerolinecolor: colours.grid,
    linecolor: colours.grid,
    ...(isObject(given[key]) ? (given[key] as Layout) : {}),
  });
  const axisKeys = Object.keys(given).filter((k) => /^[xy]axis\d*$/.test(k));
  const themedAxes = Object.fromEntries(['xaxis', 'yaxis', ...axisKeys].map((k) => [k, axis(k)]));
  return {
    paper_bgcolor: 'rgba(0,0,0,0)',
    plot_bgcolor: 'rgba(0,0,0,0)',
    ...given,
    font: { color: colours.foreground, family: colours.fontFamily, ...(isObject(given.font) ? (given.font as Layout) : {}) },
    legend: { bgcolor: 'rgba(0,0,0,0)', ...(isObject(given.legend) ? (given.legend as Layout) : {}) },
    ...themedAxes,
  };
}

function isObject(x: unknown): boolean {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
