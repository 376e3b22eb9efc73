/**
 * The waiting jobs, in the order the engine will start them, reorderable: drag a row by its handle,
 * or focus the handle and press ↑ ↓ (one place), Home / End (front / back). Each move is the
 * engine's `jobs.reorder`, so the order is the scheduler's, survives a restart and shows in every
 * window; the list shows it at once and the engine's answer confirms it.
 */
import { useEffect, useId, useRef, useState } from 'react';
import type { FocusEvent, KeyboardEvent, PointerEvent as ReactPointerEvent } from 'react';
import { useActions } from '../../../app/actions-context.tsx';
import { GripIcon } from '../../../components/icons.tsx';
import { PRESETS } from '../../../contract.ts';
import type { JobView } from '../../../contract.ts';
import { formatTime, jobTypeLabel } from '../../../format.ts';
import { useStudio } from '../../../store.ts';
import { applyPlacement, keyPlacement, placementFor } from '../logic.ts';
import type { KeyMove, Placement } from '../logic.ts';

const KEY_MOVES: Readonly<Record<string, KeyMove>> = { ArrowUp: 'up', ArrowDown: 'down', Home: 'first', End: 'last' };
/** How far the pointer travels before a press on the handle becomes a drag. */
const DRAG_SLOP_PX = 4;

interface Drag {
  readonly id: string;
  readonly from: number;
  readonly pointerId: number;
  readonly startY: number;
  /** Each row's vertical middle when the drag began (the list does not move while dragging). */
  readonly middles: readonly number[];
  dy: number;
  /** The slot it would land in: 0 = ahead of the first row, ids.length = after the last. */
  slot: number;
  moved: boolean;
}

function shortPrompt(prompt: string): string {
  return prompt.length > 60 ? `${prompt.slice(0, 57)}…` : prompt;
}

function slotAt(middles: readonly number[], y: number): number {
  let slot = 0;
  while (slot < middles.length && y > middles[slot]!) slot += 1;
  return slot;
}

function Meta({ job }: { job: JobView }) {
  const p = job.params;
  const video = PRESETS[job.type]?.kind === 'video';
  return (
    <div className="job-meta">
      <span>{`${p.steps} steps`}</span>
      <span>{`${p.width}×${p.height}`}</span>
      {video ? <span>{`${p.frames} frames`}</span> : p.count > 1 ? <span>{`×${p.count}`}</span> : null}
      <span>{`seed ${p.seed}`}</span>
      <time dateTime={new Date(job.createdAt).toISOString()}>{formatTime(job.createdAt)}</time>
    </div>
  );
}

function WaitingRow({
  job,
  index,
  total,
  helpId,
  drag,
  dropBefore,
  onHandleDown,
  onHandleKey,
  onHandleBlur,
  handleRef,
}: {
  job: JobView;
  index: number;
  total: number;
  helpId: string;
  drag: Drag | null;
  dropBefore: boolean;
  onHandleDown(e: ReactPointerEvent<HTMLButtonElement>): void;
  onHandleKey(e: KeyboardEvent<HTMLButtonElement>): void;
  onHandleBlur(e: FocusEvent<HTMLButtonElement>): void;
  handleRef(el: HTMLButtonElement | null): void;
}) {
  const actions = useActions();
  const st = job.status;
  const dragging = drag?.id === job.id && drag.moved;
  return (
    <li
      className={`job job--queued job--waiting${dragging ? ' job--dragging' : ''}${dropBefore ? ' job--drop-before' : ''}`}
      data-job-id={job.id}
      data-state="queued"
      style={dragging ? { transform: `translateY(${drag.dy}px)` } : undefined}
    >
      <button
        type="button"
        ref={handleRef}
        className="job-handle"
        aria-label={`Move “${shortPrompt(job.params.prompt)}”, place ${index + 1} of ${total}`}
        aria-describedby={helpId}
        title="Drag to reorder, or press ↑ ↓"
        onPointerDown={onHandleDown}
        onKeyDown={onHandleKey}
        onBlur={onHandleBlur}
      >
        <GripIcon />
      </button>
      <div className="job-body">
        <div className="job-head">
          <span className="job-type">{jobTypeLabel(job.type)}</span>
          <span className="badge badge--queued" data-testid="job-status">
            {`Queued · #${index + 1}`}
          </span>
        </div>
        <p className="job-prompt" title={job.params.prompt}>
          {job.params.prompt}
        </p>
        <Meta job={job} />
        {st.state === 'queued' && st.notBefore !== null ? (
          <p className="job-note">
            Waits until {formatTime(st.notBefore)}
            {st.reason ? ` — ${st.reason}` : ''}
          </p>
        ) : null}
      </div>
      <div className="job-actions">
        {index > 0 ? (
          <button type="button" className="btn btn-ghost btn-small" onClick={() => void actions.moveToFront(job.id)}>
            Move to front
          </button>
        ) : null}
        <button type="button" className="btn btn-ghost btn-small btn-danger" onClick={() => void actions.cancel(job.id)}>
          Cancel
        </button>
      </div>
    </li>
  );
}

export function WaitingList({ ids }: { ids: readonly string[] }) {
  const actions = useActions();
  const jobs = useStudio((s) => s.jobs);
  const helpId = useId();
  const listRef = useRef<HTMLUListElement>(null);
  const handles = useRef(new Map<string, HTMLButtonElement>());
  const [drag, setDrag] = useState<Drag | null>(null);
  const [announcement, setAnnouncement] = useState('');
  // The moved job's handle keeps the focus through the re-render that puts it in its new place.
  const refocus = useRef<string | null>(null);

  useEffect(() => {
    const id = refocus.current;
    if (id === null) return;
    // Only when the move itself lost the focus (React moved the row's node): never steal it back.
    const handle = handles.current.get(id);
    if (handle && (document.activeElement === null || document.activeElement === document.body)) handle.focus();
  }, [ids]);

  const place = (placement: Placement, how: 'key' | 'drag') => {
    const job = jobs[placement.id];
    const to = applyPlacement(ids, placement).indexOf(placement.id);
    if (how === 'key') refocus.current = placement.id;
    setAnnouncement(`“${shortPrompt(job?.params.prompt ?? '')}” moved to place ${to + 1} of ${ids.length}.`);
    void actions.reorder(placement.id, placement.before);
  };

  const onHandleKey = (index: number) => (e: KeyboardEvent<HTMLButtonElement>) => {
    if (e.key === 'Escape' && drag) {
      setDrag(null);
      return;
    }
    const move = KEY_MOVES[e.key];
    if (!move) return;
    e.preventDefault();
    const placement = keyPlacement(ids, index, move);
    if (placement) place(placement, 'key');
    else setAnnouncement(move === 'up' || move === 'first' ? 'Already first in line.' : 'Already last in line.');
  };

  const onHandleDown = (index: number) => (e: ReactPointerEvent<HTMLButtonElement>) => {
    if (e.button !== 0 || !listRef.current) return;
    e.preventDefault();
    e.currentTarget.setPointerCapture(e.pointerId);
    const rows = [...listRef.current.querySelectorAll<HTMLElement>(':scope > li')];
    const middles = rows.map((row) => {
      const r = row.getBoundingClientRect();
      return r.top + r.height / 2;
    });
    setDrag({ id: ids[index]!, from: index, pointerId: e.pointerId, startY: e.clientY, middles, dy: 0, slot: index, moved: false });
  };

  useEffect(() => {
    if (!drag) return;
    const move = (e: PointerEvent) => {
      if (e.pointerId !== drag.pointerId) return;
      const dy = e.clientY - drag.startY;
      const moved = drag.moved || Math.abs(dy) > DRAG_SLOP_PX;
      setDrag({ ...drag, dy, moved, slot: moved ? slotAt(drag.middles, e.clientY) : drag.from });
    };
    const up = (e: PointerEvent) => {
      if (e.pointerId !== drag.pointerId) return;
      setDrag(null);
      if (!drag.moved) return;
      const placement = placementFor(ids, drag.from, drag.slot);
      if (placement) place(placement, 'drag');
    };
    const cancel = () => setDrag(null);
    const escape = (e: globalThis.KeyboardEvent) => {
      if (e.key === 'Escape') setDrag(null);
    };
    window.addEventListener('pointermove', move);
    window.addEventListener('pointerup', up);
    window.addEventListener('pointercancel', cancel);
    window.addEventListener('keydown', escape);
    return () => {
      window.removeEventListener('pointermove', move);
      window.removeEventListener('pointerup', up);
      window.removeEventListener('pointercancel', cancel);
      window.removeEventListener('keydown', escape);
    };
  });

  // Where the drop line shows: above the row the job would go ahead of, or below the last.
  const landing = drag?.moved ? placementFor(ids, drag.from, drag.slot) : null;
  return (
    <>
      <p id={helpId} className="visually-hidden">
        Drag to change the order, or press the up and down arrow keys to move one place, Home to move to the front and End to the back.
      </p>
      <ul
        ref={listRef}
        className={`job-list job-list--waiting${drag?.moved ? ' job-list--dragging' : ''}${landing && landing.before === null ? ' job-list--drop-end' : ''}`}
      >
        {ids.map((id, index) => {
          const job = jobs[id];
          if (!job) return null;
          return (
            <WaitingRow
              key={id}
              job={job}
              index={index}
              total={ids.length}
              helpId={helpId}
              drag={drag}
              dropBefore={landing?.before === id}
              onHandleDown={onHandleDown(index)}
              onHandleKey={onHandleKey(index)}
              onHandleBlur={(e) => {
                // Focus the person moved elsewhere ends the follow-the-moved-row behaviour.
                if (e.relatedTarget !== null && refocus.current === id) refocus.current = null;
              }}
              handleRef={(el) => {
                if (el) handles.current.set(id, el);
                else handles.current.delete(id);
              }}
            />
          );
        })}
      </ul>
      <p className="visually-hidden" role="status" aria-live="polite">
        {announcement}
      </p>
    </>
  );
}
