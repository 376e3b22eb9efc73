/**
 * Two pictures compared in a dialog of their own (the Workspace's batch, the Library's selection):
 * slider, side by side or difference, zoomed together; + − 0 1 zoom, Esc closes, and focus goes
 * back to what opened it.
 */
import { Dialog } from 'radix-ui';
import { useRef } from 'react';
import type { KeyboardEvent, ReactNode } from 'react';
import { useReturnFocus } from '../return-focus.ts';
import { CloseIcon } from '../icons.tsx';
import { CompareViewer } from './CompareViewer.tsx';
import type { ComparedImage } from './CompareViewer.tsx';
import type { ViewerHandle } from './ImageViewer.tsx';
import type { Size } from './zoom.ts';

export interface CompareDialogProps {
  readonly title: ReactNode;
  readonly a: ComparedImage;
  readonly b: ComparedImage;
  readonly size: Size;
  readonly resetKey: string;
  onClose(): void;
}

export function CompareDialog({ title, a, b, size, resetKey, onClose }: CompareDialogProps) {
  const viewer = useRef<ViewerHandle>(null);
  const returnFocus = useReturnFocus(true);
  const onKeyDown = (e: KeyboardEvent) => {
    if ((e.target as HTMLElement).closest('input, textarea, select')) return;
    if (viewer.current?.key(e)) e.preventDefault();
  };
  return (
    <Dialog.Root open onOpenChange={(open) => !open && onClose()}>
      <Dialog.Portal>
        <Dialog.Overlay className="viewer-overlay" />
        <Dialog.Content className="viewer-dialog compare-dialog" aria-describedby={undefined} onKeyDown={onKeyDown} onCloseAutoFocus={returnFocus} data-testid="compare-dialog">
          <Dialog.Title className="viewer-dialog-title">{title}</Dialog.Title>
          <CompareViewer ref={viewer} a={a} b={b} size={size} resetKey={resetKey} />
          <Dialog.Close className="viewer-close" aria-label="Close">
            <CloseIcon size={16} />
          </Dialog.Close>
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}
