/**
 * What the Models view asks of the engine: what a path is, add it, prepare a checkpoint found in a
 * model folder, cancel, try again. Answers go into the store; a failure a card or a row cannot show
 * becomes a toast with the engine's sentence.
 */
import { toWireError } from '../../api/errors.ts';
import type { ModelInfo, ModelInspection, Preparation, StudioApi, WireError } from '../../contract.ts';
import type { StudioStore } from '../../store.ts';

export interface AddModelParams {
  readonly path: string;
  /** A WAN 2.1 model's parts chosen one by one (`path` among them). */
  readonly paths?: readonly string[] | null;
  readonly vae?: string | null;
  readonly name?: string | null;
}

export interface ModelsActions {
  /** What a file or folder is (its header read by the engine), or why it could not be asked. */
  inspect(path: string, paths?: readonly string[]): Promise<{ inspection: ModelInspection } | { error: WireError }>;
  /** Starts preparing; the dialog shows a refusal itself, so no toast here. */
  add(params: AddModelParams): Promise<{ preparation: Preparation } | { error: WireError }>;
  /** One click on a "Ready to prepare" row. */
  prepare(model: ModelInfo): Promise<void>;
  cancel(id: string): Promise<void>;
  /** Runs a failed or cancelled preparation again with the same file, VAE and name; its old card goes. */
  retry(preparation: Preparation): Promise<void>;
  dismiss(id: string): void;
}

export function createModelsActions(api: StudioApi, store: StudioStore): ModelsActions {
  const s = () => store.getState();
  const toast = (title: string, error: unknown) => s().notify({ kind: 'error', title, message: toWireError(error).message });

  async function add(params: AddModelParams): Promise<{ preparation: Preparation } | { error: WireError }> {
    try {
      const preparation = await api.models.add({
        path: params.path,
        ...(params.paths && params.paths.length > 1 ? { paths: [...params.paths] } : {}),
        ...(params.vae ? { vae: params.vae } : {}),
        ...(params.name ? { name: params.name } : {}),
      });
      s().upsertPreparations([preparation]);
      return { preparation };
    } catch (error) {
      return { error: toWireError(error) };
    }
  }

  return {
    async inspect(path, paths) {
      try {
        return { inspection: await api.models.inspect({ path, ...(paths && paths.length > 1 ? { paths: [...paths] } : {}) }) };
      } catch (error) {
        return { error: toWireError(error) };
      }
    },
    add,
    async prepare(model) {
      const result = await add({ path: model.path });
      if ('error' in result) s().notify({ kind: 'error', title: `Could not prepare ${model.name}`, message: result.error.message });
    },
    async cancel(id) {
      try {
        s().upsertPreparations([await api.models.cancelPreparation({ id })]);
      } catch (error) {
        toast('Could not cancel the preparation', error);
      }
    },
    async retry(preparation) {
      const result = await add({ path: preparation.source, paths: preparation.sources ?? null, vae: preparation.vae, name: preparation.name });
      if ('error' in result) {
        s().notify({ kind: 'error', title: `Could not prepare ${preparation.name}`, message: result.error.message });
        return;
      }
      if (result.preparation.id !== preparation.id) s().dismissPreparation(preparation.id);
    },
    dismiss(id) {
      s().dismissPreparation(id);
    },
  };
}
