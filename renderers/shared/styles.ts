/**
 * One style sheet shared by every output of our widgets (adopted into each shadow root). Colours
 * come from VS Code's theme variables, with fallbacks for hosts that define none, so light, dark
 * and high-contrast themes all apply without `prefers-color-scheme` (always light in outputs).
 */
const CSS = `
:host { display: block; }
.pertset-widget {
  color: var(--vscode-editor-foreground, #1f1f1f);
  font-family: var(--vscode-font-family, system-ui, sans-serif);
  font-size: var(--vscode-font-size, 13px);
  padding: 4px 0;
}
.pertset-title { font-weight: 600; margin: 0 0 6px; }
.pertset-toolbar { display: flex; align-items: center; gap: 8px; flex-wrap: wrap; margin-bottom: 6px; }
.pertset-toolbar label { display: inline-flex; align-items: center; gap: 4px; }
.pertset-muted { color: var(--vscode-descriptionForeground, #717171); }
select, input[type=range] { accent-color: var(--vscode-focusBorder, #0078d4); }
select {
  background: var(--vscode-dropdown-background, #fff);
  color: var(--vscode-dropdown-foreground, inherit);
  border: 1px solid var(--vscode-dropdown-border, #ccc);
  font: inherit; padding: 1px 4px;
}
canvas.pertset-pixels {
  image-rendering: pixelated;
  image-rendering: crisp-edges;
  display: block;
  background: var(--vscode-editor-background, #fff);
  outline: 1px solid var(--vscode-editorWidget-border, rgba(128,128,128,0.35));
}
.pertset-grid canvas.pertset-pixels { width: var(--pertset-cell-w); height: var(--pertset-cell-h); }
.pertset-grid { display: grid; gap: 4px 4px; align-items: start; width: max-content; }
.pertset-cell { margin: 0; }
.pertset-caption, .pertset-collabel, .pertset-rowlabel {
  font-size: 11px; line-height: 1.3; overflow: hidden; text-overflow: ellipsis; white-space: nowrap;
}
.pertset-caption { max-width: var(--pertset-cell-w); }
.pertset-collabel { text-align: center; max-width: var(--pertset-cell-w); }
.pertset-rowlabel { align-self: center; text-align: right; padding-right: 4px; max-width: 12em; }
.pertset-readout { margin-top: 6px; min-height: 1.3em; font-family: var(--vscode-editor-font-family, monospace); font-size: 12px; }
.pertset-views { display: flex; gap: 16px; align-items: flex-start; flex-wrap: wrap; }
.pertset-views figure { margin: 0; }
.pertset-views figcaption { font-size: 11px; margin-top: 2px; }
figure.pertset-outside canvas { outline: 2px solid var(--vscode-editorWarning-foreground, #bf8803); }
.pertset-slider { position: relative; width: min(420px, 100%); padding-top: 4px; }
.pertset-slider input { width: 100%; margin: 0; }
.pertset-eps-mark {
  position: absolute; top: 0; width: 2px; height: 8px; margin-left: -1px;
  background: var(--vscode-editorWarning-foreground, #bf8803);
}
.pertset-slider-ends { display: flex; justify-content: space-between; font-size: 11px; }
.pertset-axis { font-size: 11px; }
.pertset-error {
  color: var(--vscode-errorForeground, #a1260d);
  background: var(--vscode-inputValidation-errorBackground, rgba(241, 76, 76, 0.1));
  border: 1px solid var(--vscode-inputValidation-errorBorder, #be1100);
  font-family: var(--vscode-font-family, system-ui, sans-serif);
  padding: 6px 8px; white-space: pre-wrap; overflow-wrap: anywhere;
}
`;

let shared: CSSStyleSheet | undefined;

export function widgetStyleSheet(): CSSStyleSheet {
  if (!shared) {
    shared = new CSSStyleSheet();
    shared.replaceSync(CSS);
  }
  return shared;
}

/** The same rules as text, for the light-DOM error box (no shadow root to adopt into). */
export const ERROR_BOX_INLINE_STYLE =
  'color: var(--vscode-errorForeground, #a1260d);' +
  'background: var(--vscode-inputValidation-errorBackground, rgba(241, 76, 76, 0.1));' +
  'border: 1px solid var(--vscode-inputValidation-errorBorder, #be1100);' +
  'font-family: var(--vscode-font-family, system-ui, sans-serif);' +
  'padding: 6px 8px; white-space: pre-wrap; overflow-wrap: anywhere;';
