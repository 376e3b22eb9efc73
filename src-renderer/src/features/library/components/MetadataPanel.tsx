/**
 * Everything known about one asset, beside its preview: the prompt (and the enhanced prompt beside
 * the original), negative prompt, seed, model, steps, sampler, size, timings, tags, rating — and
 * what to do with it: use these settings, copy the prompt, download, delete.
 */
import { useState } from 'react';
import type { ReactNode } from 'react';
import { displayUrl } from '../../../api/media.ts';
import type { AssetDetail, AssetView } from '../../../contract.ts';
import { formatBytes, formatFullTime } from '../../../format.ts';
import { useStudio } from '../../../store.ts';
import { useLibrary } from '../context.tsx';
import { imageSeedClipboard, imageSeedValue } from '../../../seeds.ts';
import { assetOrigin, clipLength, dimensions, downloadName, importedName, runFigures } from '../labels.ts';
import { CloseIcon, CopyIcon, DownloadIcon, FolderIcon, HeartIcon, StarIcon, TrashIcon, WandIcon } from '../../../components/icons.tsx';

/** Copies text and says so in a toast (or says why not). */
export function copyToClipboard(text: string, what: string): void {
  const notify = useStudio.getState().notify;
  navigator.clipboard.writeText(text).then(
    () => notify({ kind: 'info', title: 'Copied', message: `${what} copied to the clipboard.` }),
    (e: unknown) => notify({ kind: 'error', title: 'Could not copy', message: `The clipboard refused: ${e instanceof Error ? e.message : String(e)}` }),
  );
}

function PromptBlock({ label, text, copyLabel }: { label: string; text: string; copyLabel?: string }) {
  return (
    <section className="meta-prompt">
      <div className="meta-label-row">
        <h3 className="meta-label">{label}</h3>
        {copyLabel ? (
          <button type="button" className="icon-btn" aria-label={`Copy ${copyLabel}`} title={`Copy ${copyLabel}`} onClick={() => copyToClipboard(text, copyLabel.charAt(0).toUpperCase() + copyLabel.slice(1))}>
            <CopyIcon />
          </button>
        ) : null}
      </div>
      <p className="meta-text">{text}</p>
    </section>
  );
}

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </>
  );
}

function Rating({ asset }: { asset: AssetView }) {
  const controller = useLibrary();
  const [hover, setHover] = useState(0);
  const shown = hover || asset.rating;
  return (
    <div className="rating" role="radiogroup" aria-label="Rating" onMouseLeave={() => setHover(0)}>
      {[1, 2, 3, 4, 5].map((n) => (
        <button
          key={n}
          type="button"
          role="radio"
          aria-checked={asset.rating === n}
          aria-label={`${n} star${n === 1 ? '' : 's'}`}
          className={`star${n <= shown ? ' star--on' : ''}`}
          onMouseEnter={() => setHover(n)}
          onClick={() => void controller.setRating(asset.id, asset.rating === n ? 0 : n)}
        >
          <StarIcon filled={n <= shown} />
        </button>
      ))}
    </div>
  );
}

function Tags({ asset }: { asset: AssetView }) {
  const controller = useLibrary();
  const [text, setText] = useState('');
  const add = () => {
    const tags = text
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    if (tags.length === 0) return;
    void controller.tag([asset.id], tags).then((ok) => ok && setText(''));
  };
  return (
    <section className="meta-tags">
      <h3 className="meta-label">Tags</h3>
      <ul className="tag-list" aria-label="Tags">
        {asset.tags.map((t) => (
          <li key={t} className="tag-chip tag-chip--static">
            {t}
            <button type="button" aria-label={`Remove tag ${t}`} onClick={() => void controller.untag([asset.id], [t])}>
              <CloseIcon />
            </button>
          </li>
        ))}
        <li className="tag-add">
          <input
            className="input input--small"
            aria-label="Add a tag"
            placeholder={asset.tags.length ? 'Add a tag' : 'Add a tag, e.g. keeper'}
            value={text}
            maxLength={64}
            onChange={(e) => setText(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter') {
                e.preventDefault();
                add();
              }
            }}
          />
        </li>
      </ul>
    </section>
  );
}

export function MetadataPanel({ asset, detail, onDelete, onClose }: { asset: AssetView; detail: AssetDetail | null; onDelete(): void; onClose(): void }) {
  const controller = useLibrary();
  const video = asset.kind === 'video';
  const figures = detail ? runFigures(detail.timings) : [];
  const seed = asset.seed !== null ? { seed: asset.seed, batchIndex: asset.batchIndex } : null;
  const enhanced = asset.enhancedPrompt && asset.enhancedPrompt !== asset.prompt ? asset.enhancedPrompt : null;
  const trashed = asset.trashedAt !== null;

  return (
    <aside className="meta" aria-label="Details">
      <header className="meta-head">
        <div>
          <div className="meta-origin">{assetOrigin(asset)}</div>
          <div className="meta-date">{formatFullTime(asset.createdAt)}</div>
        </div>
        <button type="button" className="icon-btn" aria-label="Close preview" onClick={onClose}>
          <CloseIcon />
        </button>
      </header>

      <div className="meta-scroll">
        <div className="meta-quick">
          <Rating asset={asset} />
          <button
            type="button"
            className={`icon-btn fav-btn${asset.favorite ? ' fav-btn--on' : ''}`}
            aria-pressed={asset.favorite}
            aria-label={asset.favorite ? 'Remove from favourites' : 'Add to favourites'}
            onClick={() => void controller.setFavorite([asset.id], !asset.favorite)}
          >
            <HeartIcon filled={asset.favorite} />
          </button>
        </div>

        {asset.prompt ? (
          enhanced ? (
            <div className="meta-prompts-pair">
              <PromptBlock label="Your prompt" text={asset.prompt} copyLabel="prompt" />
              <PromptBlock label="Enhanced prompt" text={enhanced} copyLabel="enhanced prompt" />
            </div>
          ) : (
            <PromptBlock label="Prompt" text={asset.prompt} copyLabel="prompt" />
          )
        ) : (
          <p className="muted meta-none">No prompt was recorded with this {video ? 'video' : 'image'}.</p>
        )}
        {asset.negativePrompt ? <PromptBlock label="Negative prompt" text={asset.negativePrompt} /> : null}

        <dl className="meta-facts">
          <Fact label="Seed">
            {seed ? (
              <button type="button" className="seed-btn" title="Copy what reproduces this image alone" onClick={() => copyToClipboard(imageSeedClipboard(seed), 'Seed')}>
                {imageSeedValue(seed)}
              </button>
            ) : (
              '—'
            )}
          </Fact>
          <Fact label="Model">{asset.model ?? '—'}</Fact>
          <Fact label="Steps">{asset.steps ?? '—'}</Fact>
          <Fact label="Sampler">{asset.scheduler ?? '—'}</Fact>
          {asset.guidance !== null ? <Fact label="Guidance">{asset.guidance}</Fact> : null}
          <Fact label="Size">{dimensions(asset)}</Fact>
          {video ? (
            <Fact label="Clip">
              {[clipLength(asset.durationMs), asset.frameCount ? `${asset.frameCount} frames` : null, asset.fps ? `${asset.fps} fps` : null].filter(Boolean).join(' · ') || '—'}
            </Fact>
          ) : null}
          <Fact label="File">
            {formatBytes(asset.fileSize)} · {asset.mime.replace(/^(image|video)\//, '').toUpperCase()}
          </Fact>
        </dl>

        {figures.length > 0 ? (
          <section>
            <h3 className="meta-label">How it ran</h3>
            <dl className="meta-facts meta-facts--timings" data-testid="run-figures">
              {figures.map((f) => (
                <Fact key={f.key} label={f.label}>
                  {f.value}
                </Fact>
              ))}
            </dl>
          </section>
        ) : null}

        <Tags asset={asset} />

        {detail && detail.duplicates.length > 0 ? (
          <p className="meta-note">
            The same file is also in the library {detail.duplicates.length === 1 ? 'once more' : `${detail.duplicates.length} more times`}.
          </p>
        ) : null}
      </div>

      <footer className="meta-actions">
        {!trashed ? (
          <button type="button" className="btn btn-primary" onClick={() => controller.useSettings(asset)} disabled={!asset.prompt && !asset.jobType}>
            <WandIcon /> Use these settings
          </button>
        ) : null}
        <div className="meta-actions-row">
          {asset.prompt ? (
            <button type="button" className="btn btn-secondary btn-small" onClick={() => copyToClipboard(asset.prompt!, 'Prompt')}>
              <CopyIcon /> Copy prompt
            </button>
          ) : null}
          <a className="btn btn-secondary btn-small" href={displayUrl(asset.mediaUrl)} download={downloadName(asset, importedName(detail?.recipe))}>
            <DownloadIcon /> Download
          </a>
          {controller.canReveal ? (
            <button type="button" className="btn btn-secondary btn-small" onClick={() => void controller.reveal(asset.id)}>
              <FolderIcon /> Show in folder
            </button>
          ) : null}
          {!trashed ? (
            <button type="button" className="btn btn-ghost btn-small btn-danger" onClick={onDelete}>
              <TrashIcon /> Delete…
            </button>
          ) : null}
        </div>
      </footer>
    </aside>
  );
}
