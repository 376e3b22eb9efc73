/** Pure helpers behind the Settings view: provider order edits, folder status, field errors. */
import { PROVIDER_NAMES } from '../../contract.ts';
import type { ModelInfo, ProviderName, SettingsState, WireError } from '../../contract.ts';

/** The order shown for editing: the chosen providers first (in order), then the others, unticked. */
export function providerRows(chosen: readonly string[]): { readonly name: ProviderName; readonly on: boolean }[] {
  const known = chosen.filter((p): p is ProviderName => (PROVIDER_NAMES as readonly string[]).includes(p));
  const rest = PROVIDER_NAMES.filter((p) => !known.includes(p));
  return [...known.map((name) => ({ name, on: true })), ...rest.map((name) => ({ name, on: false }))];
}

/** The order after moving `name` one place up (-1) or down (+1) among the chosen ones. */
export function moveProvider(order: readonly ProviderName[], name: ProviderName, by: -1 | 1): ProviderName[] {
  const i = order.indexOf(name);
  const j = i + by;
  if (i < 0 || j < 0 || j >= order.length) return [...order];
  const next = [...order];
  [next[i], next[j]] = [next[j]!, next[i]!];
  return next;
}

/** The order after ticking or unticking `name` (ticked ones join at the end). */
export function toggleProvider(order: readonly ProviderName[], name: ProviderName, on: boolean): ProviderName[] {
  if (on) return order.includes(name) ? [...order] : [...order, name];
  return order.filter((p) => p !== name);
}

export type FolderStatus =
  | { readonly kind: 'missing'; readonly message: string }
  | { readonly kind: 'ok'; readonly models: number; readonly ready: number; readonly toPrepare: number };

/** What a model folder holds, from the model list, or why it cannot be read. */
export function folderStatus(dir: string, state: SettingsState, models: readonly ModelInfo[] | null): FolderStatus {
  const index = state.values.modelDirs.indexOf(dir);
  const problem = index >= 0 ? state.problems.find((p) => p.field === `modelDirs.${index}`) : undefined;
  if (problem) return { kind: 'missing', message: problem.message };
  const sep = dir.includes('\\') && !dir.includes('/') ? '\\' : '/';
  const prefix = dir.endsWith(sep) ? dir : `${dir}${sep}`;
  // Model folders lie in it or one level down; checkpoint files one level further (a folder of them).
  const inside = (models ?? []).filter((m) => m.path === dir || (m.path.startsWith(prefix) && m.path.slice(prefix.length).split(sep).length <= 2));
  return {
    kind: 'ok',
    models: inside.length,
    ready: inside.filter((m) => m.status === 'ready').length,
    toPrepare: inside.filter((m) => m.status === 'needs_preparation').length,
  };
}

/** The input a refusal belongs to: `modelDirs.3` → `modelDirs`. */
export function fieldOfError(error: WireError): string {
  return (error.field ?? '').split('.')[0] || 'settings';
}

/** The engine's messages start lower-case after a field name; shown alone they start a sentence. */
export function asSentence(text: string): string {
  const trimmed = text.replace(/^(modelDirs|providers|vramBudgetMb|ffmpegPath|previewEvery|workerIdleMinutes)(\.\d+)?:?\s+/, '');
  return trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
}
