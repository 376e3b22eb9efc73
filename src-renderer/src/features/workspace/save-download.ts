/**
 * Saving bytes the page holds as a file, the way a link with `download` saves one (the Library's
 * "Download"): a browser puts it in its downloads, the app asks where with the system's save dialog
 * (Electron's own prompt for a download nobody set a path for). Used by an X/Y sheet's "Export as PNG".
 */
import { getStudioApi } from '../../api/index.ts';
import type { JobView, SheetExport } from '../../contract.ts';
import { base64ToBytes, sheetExportRequest } from './sheet-export.ts';
import type { Sheet } from './store.ts';

export function saveDownload(name: string, bytes: Uint8Array<ArrayBuffer>, type = 'image/png'): void {
  const url = URL.createObjectURL(new Blob([bytes], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.rel = 'noopener';
  a.style.display = 'none';
  document.body.append(a);
  a.click();
  a.remove();
  // The download has taken the blob by the next turns; a minute leaves room for the app's save dialog.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** Asks the engine for the sheet's PNG and saves it; resolves with the engine's answer (throws its refusal). */
export async function exportSheetPng(sheet: Sheet, jobs: readonly (JobView | undefined)[]): Promise<SheetExport> {
  const result = await getStudioApi().library.exportSheet(sheetExportRequest(sheet, jobs));
  saveDownload(result.name, base64ToBytes(result.png));
  return result;
}
