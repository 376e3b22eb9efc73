/**
 * "Export as PNG" on an X/Y sheet: the engine draws the sheet as one PNG (library.exportSheet:
 * labels, axis titles and the shared recipe, as A1111 saves its grids) and hands its bytes back; the
 * window saves them as a download, as the Library's "Download" saves one picture — a browser puts
 * it in its downloads, the app asks where with the system's save dialog (Electron's own download
 * prompt; save-download.ts). This part is pure, so it is tested without a DOM.
 */
import type { JobView, ParamsIn, SheetExport } from '../../contract.ts';
import { GRID_PARAM_LABELS } from './grid.ts';
import type { Sheet } from './store.ts';

/** What the engine needs to draw a sheet: the axes as the sheet labels them and each cell's picture (null: none). */
export function sheetExportRequest(sheet: Sheet, jobs: readonly (JobView | undefined)[]): ParamsIn<'library.exportSheet'> {
  const cells = sheet.cells.map((_, i) => {
    const st = jobs[i]?.status;
    return st?.state === 'done' ? (st.assets[0] ?? null) : null;
  });
  return {
    x: { name: GRID_PARAM_LABELS[sheet.x.param], values: [...sheet.x.labels] },
    y: sheet.y ? { name: GRID_PARAM_LABELS[sheet.y.param], values: [...sheet.y.labels] } : null,
    cells,
  };
}

/** base64 to bytes, a slice at a time (a sheet can be tens of megabytes). */
export function base64ToBytes(base64: string): Uint8Array<ArrayBuffer> {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** The sentence shown after an export: where it went, and which cells are placeholders and why. */
export function exportSummary(result: Pick<SheetExport, 'name' | 'width' | 'height' | 'missing'>): { title: string; message: string } {
  const size = `${result.width}×${result.height}`;
  if (result.missing.length === 0) return { title: 'Sheet exported', message: `Saved as ${result.name} (${size}).` };
  const cells = result.missing.length === 1 ? '1 cell is' : `${result.missing.length} cells are`;
  const why = result.missing.map((m) => `cell ${m.index + 1}: ${m.message}`).join('; ');
  return { title: 'Sheet exported with gaps', message: `Saved as ${result.name} (${size}); ${cells} drawn grey — ${why}.` };
}
