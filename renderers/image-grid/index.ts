/** Entry point of the `application/vnd.pertset.image-grid+json` renderer. */
import { validateImageGridPayload } from '../../kernel/contract/payloads';
import { defineRenderer } from '../shared/renderer-host';
import { renderImageGrid } from './render';

export const activate = defineRenderer({
  what: 'image grid',
  validate: validateImageGridPayload,
  render: renderImageGrid,
});
