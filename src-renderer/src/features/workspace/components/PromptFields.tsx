/** Prompt (with its token hint and the Enhance button), the rewrite to review, and the negative prompt. */
import { useEffect, useId, useRef, useState } from 'react';
import { PRESETS } from '../../../contract.ts';
import { jobTypeLabel } from '../../../format.ts';
import { useStudio } from '../../../store.ts';
import { enhancedTwin, estimateTokens, tokenBudget } from '../options.ts';
import { enhancerMissingNote } from '../model-place.ts';
import { useWorkspaceActions } from '../use-workspace-actions.ts';
import { sentence, useFieldError } from './field-error.tsx';
import { looksLikeRecipe } from './RecipeLoad.tsx';
import { SparkIcon } from '../../../components/icons.tsx';

function TokenHint({ text }: { text: string }) {
  const family = useStudio((s) => PRESETS[s.draft.type].family);
  if (!text.trim()) return null;
  const tokens = estimateTokens(text);
  const { window, chunked } = tokenBudget(family);
  const over = tokens > window;
  const chunks = Math.ceil(tokens / window);
  const note = over ? (chunked ? ` · ${chunks} chunks` : ' · the rest is cut') : '';
  return (
    <span
      className={`ws-tokens${over && !chunked ? ' ws-tokens--over' : ''}`}
      title={
        family === 'sdxl'
          ? 'An estimate. SDXL reads 75 tokens at a time; longer prompts are split into chunks, and later chunks weigh less.'
          : 'An estimate. WAN reads up to 512 tokens; anything beyond is ignored.'
      }
    >
      ≈{tokens} / {window} tokens{note}
    </span>
  );
}

function EnhanceBox() {
  const enhancement = useStudio((s) => s.enhancement);
  const type = useStudio((s) => s.draft.type);
  const actions = useWorkspaceActions();
  const [text, setText] = useState('');
  const boxId = useId();
  const error = useFieldError('enhancement');
  const ref = useRef<HTMLTextAreaElement>(null);
  const readyText = enhancement?.status === 'ready' ? enhancement.text : null;

  // A new rewrite replaces what was in the box; edits stay until the next one.
  useEffect(() => {
    if (readyText !== null) {
      setText(readyText);
      ref.current?.focus();
    }
  }, [readyText]);

  if (!enhancement) return null;
  const twin = enhancedTwin(type);
  return (
    <section className="ws-enhance" aria-label="Prompt enhancement" aria-busy={enhancement.status === 'working'}>
      <div className="ws-enhance-head">
        <SparkIcon />
        <span className="ws-enhance-title">
          {enhancement.status === 'working'
            ? 'Rewriting the prompt…'
            : enhancement.status === 'failed'
              ? 'The enhancer could not rewrite it'
              : `Rewrite for ${PRESETS[enhancement.type].family === 'sdxl' ? 'SDXL' : 'WAN'}`}
        </span>
      </div>
      {enhancement.status === 'ready' ? (
        <p className="ws-hint">
          {PRESETS[enhancement.type].family === 'sdxl' ? 'Comma-separated tags' : 'One descriptive paragraph'}
          {enhancement.model ? ` · by ${enhancement.model}` : ''}. Edit it freely before you use it.
        </p>
      ) : null}
      {enhancement.status === 'working' ? (
        <div className="ws-enhance-wait">
          <span className="ws-spinner" aria-hidden="true" /> Qwen is reading your prompt. It runs on your GPU, so this can take a moment.
        </div>
      ) : null}
      {enhancement.status === 'failed' ? <p className="job-error">{sentence(enhancement.message)}</p> : null}
      {enhancement.status === 'ready' ? (
        <>
          {enhancement.warning ? (
            <p className="ws-warning" role="status">
              {sentence(enhancement.warning)} The box holds your original prompt.
            </p>
          ) : null}
          <label className="visually-hidden" htmlFor={boxId}>
            Enhanced prompt
          </label>
          <textarea
            id={boxId}
            ref={ref}
            className="ws-enhance-text"
            rows={7}
            value={text}
            onChange={(e) => setText(e.target.value)}
            onKeyDown={(e) => {
              // Here Ctrl/Cmd+Enter uses the rewrite, rather than generating from the plain prompt.
              if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
                e.preventDefault();
                e.stopPropagation();
                if (!text.trim()) return;
                if (twin) void actions.queueEnhanced(text);
                else actions.useEnhancedAsPrompt(text);
              }
            }}
            {...error.props}
          />
          {error.message}
        </>
      ) : null}
      <div className="ws-enhance-actions">
        {enhancement.status === 'ready' && twin ? (
          <button
            type="button"
            className="btn btn-primary btn-small"
            disabled={!text.trim()}
            title={`Queues ${jobTypeLabel(twin)} with this text; your prompt is kept as the original.`}
            onClick={() => void actions.queueEnhanced(text)}
          >
            Queue enhanced
          </button>
        ) : null}
        {enhancement.status === 'ready' ? (
          <button
            type="button"
            className={`btn btn-small ${twin ? 'btn-secondary' : 'btn-primary'}`}
            disabled={!text.trim()}
            onClick={() => actions.useEnhancedAsPrompt(text)}
          >
            Use as prompt
          </button>
        ) : null}
        <button type="button" className="btn btn-ghost btn-small" onClick={() => actions.discardEnhancement()}>
          {enhancement.status === 'ready' ? 'Discard' : enhancement.status === 'working' ? 'Stop waiting' : 'Close'}
        </button>
      </div>
    </section>
  );
}

/** Enhance needs a Qwen model: said before the press, with the way to add one. */
function EnhancerMissing({ id }: { id: string }) {
  const missing = useStudio((s) => enhancerMissingNote(s.models) !== null);
  const navigate = useStudio((s) => s.navigate);
  if (!missing) return null;
  return (
    <p className="ws-hint ws-enhancer-missing" id={id} data-testid="enhancer-missing">
      Enhance needs a Qwen 2.5 model in a model folder; none is ready.{' '}
      <button type="button" className="btn-link" onClick={() => navigate('settings')}>
        Model folders
      </button>
    </p>
  );
}

export function PromptFields() {
  const prompt = useStudio((s) => s.draft.prompt);
  const negative = useStudio((s) => s.draft.negativePrompt);
  const working = useStudio((s) => s.enhancement?.status === 'working');
  const noEnhancer = useStudio((s) => enhancerMissingNote(s.models) !== null);
  const update = useStudio((s) => s.updateDraft);
  const actions = useWorkspaceActions();
  const promptId = useId();
  const negativeId = useId();
  const enhancerNoteId = useId();
  const promptError = useFieldError('prompt');
  const negativeError = useFieldError('negativePrompt');
  return (
    <>
      <div className="field">
        <div className="ws-label-row">
          <label htmlFor={promptId}>Prompt</label>
          <TokenHint text={prompt} />
          <button
            type="button"
            className="btn btn-ghost btn-small ws-enhance-btn"
            aria-busy={working}
            disabled={working}
            aria-disabled={noEnhancer || undefined}
            aria-describedby={noEnhancer ? enhancerNoteId : undefined}
            title={
              noEnhancer
                ? 'Needs a Qwen 2.5 model: none is ready yet.'
                : 'Let the local Qwen model rewrite your prompt; you review it before anything is queued.'
            }
            onClick={() => {
              if (!noEnhancer) void actions.enhance();
            }}
          >
            <SparkIcon /> Enhance
          </button>
        </div>
        <textarea
          id={promptId}
          className="prompt-input"
          rows={5}
          value={prompt}
          placeholder="A lighthouse on a basalt cliff at dusk, volumetric light, 35mm film grain — or paste an A1111 infotext"
          onChange={(e) => update({ prompt: e.target.value })}
          onPaste={(e) => {
            // An A1111 infotext (or a tool's JSON record) fills the whole form, as A1111's
            // "read generation parameters" does; anything else pastes as typed.
            const text = e.clipboardData.getData('text/plain');
            if (!looksLikeRecipe(text)) return;
            e.preventDefault();
            const field = e.currentTarget;
            const [start, end] = [field.selectionStart, field.selectionEnd];
            void actions.loadRecipeText(text).then((read) => {
              if (read) return;
              const current = useStudio.getState().draft.prompt;
              update({ prompt: current.slice(0, start) + text + current.slice(end) });
            });
          }}
          {...promptError.props}
        />
        {promptError.message}
        <EnhancerMissing id={enhancerNoteId} />
      </div>
      <EnhanceBox />
      <div className="field">
        <div className="ws-label-row">
          <label htmlFor={negativeId}>
            Negative prompt <span className="optional">optional</span>
          </label>
          <TokenHint text={negative} />
        </div>
        <textarea
          id={negativeId}
          rows={2}
          value={negative}
          placeholder="What to keep out: blurry, washed out, text, watermark"
          onChange={(e) => update({ negativePrompt: e.target.value })}
          {...negativeError.props}
        />
        {negativeError.message}
      </div>
    </>
  );
}
