/**
 * The shipped notebooks/demo-outputs.ipynb: every saved output offers our MIME type first with
 * a valid payload, and those payloads are what the display API makes from the cells' code today
 * (regenerate with `node dist/test/e2e/demo-notebook.js --write` when the API changes).
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import { MIME } from '../../kernel/contract/mime';
import { validateImageGridPayload, validateLatentTraversalPayload, validatePlotlyFigure } from '../../kernel/contract/payloads';
import { buildDemoNotebook, DEMO_NOTEBOOK } from './demo-notebook';

type Cell = { cell_type: string; source: string[]; outputs?: Array<{ output_type: string; data: Record<string, unknown> }> };

describe('the shipped demo notebook', () => {
  const shipped = JSON.parse(fs.readFileSync(DEMO_NOTEBOOK, 'utf8')) as { cells: Cell[]; metadata: Record<string, any> };

  it('saves one rich output per code cell, our MIME type first, with valid payloads and fallbacks', () => {
    const code = shipped.cells.filter((c) => c.cell_type === 'code');
    const validators = [validateImageGridPayload, validateLatentTraversalPayload, validatePlotlyFigure];
    assert.deepEqual(code.map((c) => Object.keys(c.outputs![0].data)[0]), [MIME.imageGrid, MIME.latentTraversal, MIME.plotly]);
    code.forEach((c, i) => {
      const data = c.outputs![0].data;
      validators[i](data[Object.keys(data)[0]]);
      assert.ok(MIME.html in data && MIME.plain in data, `cell ${i} lacks text fallbacks`);
    });
    assert.equal(shipped.metadata.kernelspec.name, 'pertset');
  });

  it('matches what the display API produces from the cells today', () => {
    const fresh = buildDemoNotebook() as unknown as { cells: Cell[] };
    fresh.cells.forEach((c, i) => {
      assert.deepEqual(shipped.cells[i].source, c.source, `cell ${i} source`);
      if (!c.outputs) return;
      const mime = Object.keys(c.outputs[0].data)[0];
      assert.deepEqual(shipped.cells[i].outputs![0].data[mime], c.outputs[0].data[mime], `cell ${i} ${mime} payload`);
    });
  });
});
