/** Entry point of the `application/vnd.pertset.latent-traversal+json` renderer. */
import { validateLatentTraversalPayload } from '../../kernel/contract/payloads';
import { defineRenderer } from '../shared/renderer-host';
import { renderLatentTraversal } from './render';

export const activate = defineRenderer({
  what: 'latent traversal',
  validate: validateLatentTraversalPayload,
  render: renderLatentTraversal,
});
