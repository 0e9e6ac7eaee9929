/** The few members of plotly.js-dist (a UMD bundle without types) that the renderer calls. */
declare module 'plotly.js-dist' {
  interface PlotlyStatic {
    newPlot(el: HTMLElement, data: unknown[], layout?: Record<string, unknown>, config?: Record<string, unknown>): Promise<HTMLElement>;
    purge(el: HTMLElement): void;
    relayout(el: HTMLElement, update: Record<string, unknown>): Promise<HTMLElement>;
  }
  const Plotly: PlotlyStatic;
  export default Plotly;
}
