/**
 * What the model list's rows do: make a model its family's default, show its file in the file
 * manager (the app) or copy its path (a browser cannot open one), remove it from the list and put it
 * back. The engine keeps these choices (model-choices.json), so the Workspace's picker, the CLI and
 * every other window follow; its new list goes into the store, a refusal into a toast.
 */
import { toWireError } from '../../api/errors.ts';
import type { ModelInfo, StudioApi } from '../../contract.ts';
import type { StudioStore } from '../../store.ts';
import { FAMILY_LABEL } from './logic.ts';

export interface ModelListActions {
  /** Whether Show in folder can open the file manager here (the app); else the row offers Copy path. */
  readonly canReveal: boolean;
  makeDefault(model: ModelInfo): Promise<void>;
  reveal(model: ModelInfo): Promise<void>;
  setHidden(model: ModelInfo, hidden: boolean): Promise<void>;
}

export function createModelListActions(
  api: StudioApi,
  store: StudioStore,
  options: { readonly canReveal: boolean; readonly copy: (text: string) => Promise<void> },
): ModelListActions {
  const s = () => store.getState();
  const fail = (title: string, error: unknown) => s().notify({ kind: 'error', title, message: toWireError(error).message });
  return {
    canReveal: options.canReveal,
    async makeDefault(model) {
      try {
        s().setModels(await api.models.setDefault({ id: model.id }));
        s().notify({ kind: 'info', title: 'Default model', message: `${FAMILY_LABEL[model.family]} jobs that name no model now run on ${model.name}.` });
      } catch (error) {
        fail(`Could not make ${model.name} the default`, error);
      }
    },
    async reveal(model) {
      try {
        const { revealed, path } = await api.models.reveal({ id: model.id });
        if (revealed) return;
        await options.copy(path);
        s().notify({ kind: 'info', title: 'Path copied', message: `${path} is on the clipboard (a browser cannot open your file manager).` });
      } catch (error) {
        fail(`Could not show ${model.name}`, error);
      }
    },
    async setHidden(model, hidden) {
      try {
        s().setModels(await api.models.setHidden({ id: model.id, hidden }));
        s().notify({
          kind: 'info',
          title: hidden ? 'Removed from the list' : 'Back in the list',
          message: hidden
            ? `${model.name} is no longer offered; its files are where they were. “Show removed” brings it back.`
            : `${model.name} is offered again.`,
        });
      } catch (error) {
        fail(hidden ? `Could not remove ${model.name} from the list` : `Could not put ${model.name} back`, error);
      }
    },
  };
}
