/**
 * A running job's stages as the Workspace shows them: the steps, then the VAE decode (frame by
 * frame for a clip), then, for a clip, the MP4's finish — so a video no longer sits at "100 %"
 * while it is decoded and encoded. Pure: the engine's stage names in, words and numbers out.
 */
import type { OutputKind } from '../../contract.ts';

export type PhaseId = 'steps' | 'decode' | 'encode';

export interface Phase {
  readonly id: PhaseId;
  readonly label: string;
  readonly state: 'done' | 'active' | 'waiting';
}

export interface RunningView {
  readonly phases: readonly Phase[];
  /** The bar: the current phase's own progress; null value while it cannot be counted. */
  readonly value: number | null;
  readonly max: number;
  readonly text: string;
}

const BEFORE_STEPS: Readonly<Record<string, string>> = {
  'loading model': 'Loading the model',
  'encoding prompt': 'Reading the prompt',
  'loading prompt enhancer': 'Loading the prompt enhancer',
  'enhancing prompt': 'Rewriting the prompt',
};

function phaseOf(stage: string | null, step: number, of: number): PhaseId | 'before' {
  if (stage === 'decoding' || stage === 'decoding tiles') return 'decode';
  if (stage === 'encoding video') return 'encode';
  if (stage !== null && BEFORE_STEPS[stage] !== undefined) return 'before';
  if (of === 0) return 'before';
  return step >= of && stage !== 'denoising' && stage !== 'denoise' && stage !== null ? 'decode' : 'steps';
}

export function runningView(
  kind: OutputKind,
  status: { readonly step: number; readonly of: number; readonly stage: string | null },
  stageProgress: { readonly done: number; readonly of: number } | null,
): RunningView {
  const { step, of, stage } = status;
  const current = phaseOf(stage, step, of);
  const order: PhaseId[] = kind === 'video' ? ['steps', 'decode', 'encode'] : ['steps', 'decode'];
  const at = current === 'before' ? -1 : order.indexOf(current);
  const labels: Record<PhaseId, string> = {
    steps: of > 0 ? `Steps ${Math.min(step, of)}/${of}` : 'Steps',
    decode:
      current === 'decode' && stageProgress && stage === 'decoding tiles'
        ? `Decode ${stageProgress.done}/${stageProgress.of} tiles`
        : kind === 'video' && current === 'decode' && stageProgress
          ? `Decode ${stageProgress.done}/${stageProgress.of}`
          : 'Decode',
    encode: 'Encode MP4',
  };
  const phases = order.map((id, i) => ({ id, label: labels[id], state: i < at ? 'done' : i === at ? 'active' : 'waiting' }) as const);
  if (current === 'before') {
    const name = stage !== null ? BEFORE_STEPS[stage] : undefined;
    const tokens = stage === 'enhancing prompt' && of > 0 ? ` · ${step} of ${of} tokens` : '';
    return { phases, value: stage === 'enhancing prompt' && of > 0 ? step : null, max: of > 0 ? of : 100, text: `${name ?? 'Starting'}${tokens}` };
  }
  if (current === 'steps') return { phases, value: step, max: of, text: `Step ${step} of ${of}` };
  if (current === 'decode') {
    if (stage === 'decoding tiles' && stageProgress && stageProgress.of > 0) {
      return { phases, value: stageProgress.done, max: stageProgress.of, text: `Decoding in tiles (to fit in memory) · ${stageProgress.done} of ${stageProgress.of}` };
    }
    if (kind === 'video' && stageProgress && stageProgress.of > 0) {
      return { phases, value: stageProgress.done, max: stageProgress.of, text: `Decoding frames · ${stageProgress.done} of ${stageProgress.of}` };
    }
    return { phases, value: null, max: 100, text: kind === 'video' ? 'Decoding frames' : 'Decoding the image' };
  }
  return { phases, value: null, max: 100, text: 'Encoding the MP4' };
}
