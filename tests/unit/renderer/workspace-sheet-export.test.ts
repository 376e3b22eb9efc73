/**
 * The Workspace's "Export as PNG" on an X/Y sheet, without a DOM: what it asks the engine for (the
 * axes as the sheet labels them, each cell's picture or null), the bytes it saves, and what it says.
 */
import { describe, expect, it } from 'vitest';
import { channels } from '../../../src-preload/contract/channels.ts';
import { base64ToBytes, exportSummary, sheetExportRequest } from '../../../src-renderer/src/features/workspace/sheet-export.ts';
import type { Sheet } from '../../../src-renderer/src/features/workspace/store.ts';
import { job } from './jobs.ts';

const sheet: Sheet = {
  id: 'sheet-1',
  createdAt: 1000,
  type: 'sdxl_image_fast',
  prompt: 'lanterns at dusk',
  x: { param: 'steps', labels: ['steps 2', 'steps 3'] },
  y: { param: 'prompt', labels: ['dusk', 'dawn'] },
  cells: ['a', 'b', 'c', ''],
};

describe('exporting an X/Y sheet from the Workspace', () => {
  it('asks for the axes by their labels and each cell’s picture, null where a job failed, runs or was never queued', () => {
    const jobs = [
      job('a', { state: 'done', at: 1, assets: ['asset-a'] }),
      job('b', { state: 'failed', at: 1, code: 'x', message: 'out of memory' }),
      job('c', { state: 'done', at: 1, assets: ['asset-c', 'asset-c2'] }),
      undefined,
    ];
    const request = sheetExportRequest(sheet, jobs);
    expect(request).toEqual({
      x: { name: 'Steps', values: ['steps 2', 'steps 3'] },
      y: { name: 'Prompt S/R', values: ['dusk', 'dawn'] },
      cells: ['asset-a', null, 'asset-c', null],
    });
    // What the engine's schema takes as it is.
    expect(channels['library.exportSheet'].params.safeParse(request).success).toBe(true);
    expect(sheetExportRequest({ ...sheet, y: null, cells: ['a', 'b'] }, jobs.slice(0, 2)).y).toBeNull();
  });

  it('turns the base64 answer back into the same bytes', () => {
    const bytes = Uint8Array.from({ length: 300 }, (_, i) => (i * 37) % 256);
    expect([...base64ToBytes(Buffer.from(bytes).toString('base64'))]).toEqual([...bytes]);
  });

  it('says the file’s name and size, and which cells were drawn grey and why', () => {
    expect(exportSummary({ name: 'xy-steps-2026-12-06-0930.png', width: 610, height: 575, missing: [] })).toEqual({
      title: 'Sheet exported',
      message: 'Saved as xy-steps-2026-12-06-0930.png (610×575).',
    });
    const gaps = exportSummary({
      name: 'xy-steps-2026-12-06-0930.png',
      width: 610,
      height: 575,
      missing: [{ index: 3, assetId: 'asset-d', message: 'the file of asset asset-d is not on this computer' }],
    });
    expect(gaps.title).toBe('Sheet exported with gaps');
    expect(gaps.message).toBe('Saved as xy-steps-2026-12-06-0930.png (610×575); 1 cell is drawn grey — cell 4: the file of asset asset-d is not on this computer.');
  });
});
