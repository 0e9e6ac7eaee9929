/** Entry point of the `application/vnd.plotly.v1+json` renderer. */
import { validatePlotlyFigure } from '../../kernel/contract/payloads';
import { defineRenderer } from '../shared/renderer-host';
import { renderPlotly } from './render';

export const activate = defineRenderer({
  what: 'plotly chart',
  validate: validatePlotlyFigure,
  render: renderPlotly,
  lightDom: true,
});
