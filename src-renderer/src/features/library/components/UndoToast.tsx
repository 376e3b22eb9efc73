/**
 * "3 assets moved to the trash. Undo" — the way back from a delete, for a few seconds (longer while
 * the pointer rests on it), also as Ctrl/Cmd+Z.
 *
 * Not a radix Toast on purpose: a Toast is a dismissable layer, so the Esc that should close the
 * preview would dismiss the undo instead, and the preview's modal focus trap would keep it out of
 * reach. This bar stays clickable above an open preview (which ignores clicks on it, see
 * PreviewDialog) and leaves Esc alone.
 */
import { useEffect, useRef, useState } from 'react';
import { createPortal } from 'react-dom';
import { useStudio } from '../../../store.ts';
import { useLibrary } from '../context.tsx';
import { CloseIcon, RestoreIcon } from '../../../components/icons.tsx';

export const UNDO_MS = 8000;
export const UNDO_BAR_CLASS = 'undo-bar';

function isTyping(target: EventTarget | null): boolean {
  return !!(target as HTMLElement | null)?.closest?.('input, textarea, select, [contenteditable="true"]');
}

export function UndoToast() {
  const controller = useLibrary();
  const offer = useStudio((s) => s.libraryUndo);
  const clear = useStudio((s) => s.offerUndo);
  const [paused, setPaused] = useState(false);
  const started = useRef(0);
  const left = useRef(UNDO_MS);

  // Counts down while not paused; a new offer starts the count again.
  useEffect(() => {
    left.current = UNDO_MS;
  }, [offer?.key]);
  useEffect(() => {
    if (!offer || paused) return;
    started.current = Date.now();
    const timer = setTimeout(() => {
      if (useStudio.getState().libraryUndo?.key === offer.key) clear(null);
    }, left.current);
    return () => {
      clearTimeout(timer);
      left.current = Math.max(1500, left.current - (Date.now() - started.current));
    };
  }, [offer, paused, clear]);

  useEffect(() => {
    if (!offer) return;
    const onKey = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && !e.shiftKey && e.key.toLowerCase() === 'z' && !isTyping(e.target)) {
        e.preventDefault();
        void controller.undoTrash();
      }
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [offer, controller]);

  if (!offer) return null;
  return createPortal(
    <div className={UNDO_BAR_CLASS} role="status" aria-live="polite" onPointerEnter={() => setPaused(true)} onPointerLeave={() => setPaused(false)} data-testid="undo-bar">
      <span className="undo-message">{offer.message}</span>
      <button type="button" className="btn btn-secondary btn-small" onClick={() => void controller.undoTrash()} aria-keyshortcuts="Control+Z Meta+Z" title="Undo (Ctrl+Z)">
        <RestoreIcon /> Undo
      </button>
      <button type="button" className="icon-btn" aria-label="Dismiss" onClick={() => clear(null)}>
        <CloseIcon />
      </button>
    </div>,
    document.body,
  );
}
