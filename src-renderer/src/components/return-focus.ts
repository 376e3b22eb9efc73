/**
 * Where keyboard focus goes when a dialog closes. Radix returns it to a Dialog.Trigger; the viewers
 * are opened from tiles, lists and keys instead, and focus fell to the page body, where the arrow
 * keys no longer move anything. This puts it back on what had it when the dialog opened (a tile's
 * button), or wherever `back` puts it (a list, on the item the dialog showed last).
 */
import { useCallback, useLayoutEffect, useRef } from 'react';

/**
 * Returns the dialog's `onCloseAutoFocus`. `back`, when given, is tried first and says whether it
 * placed focus; else the element focused at opening gets it back if it is still in the page.
 */
export function useReturnFocus(open: boolean, back?: () => boolean): (event: Event) => void {
  const opener = useRef<HTMLElement | null>(null);
  const backRef = useRef(back);
  backRef.current = back;
  // A layout effect runs before the dialog's own effects move focus into it.
  useLayoutEffect(() => {
    if (open) opener.current = document.activeElement instanceof HTMLElement && document.activeElement !== document.body ? document.activeElement : null;
  }, [open]);
  return useCallback((event: Event) => {
    event.preventDefault();
    const el = opener.current;
    opener.current = null;
    if (backRef.current?.()) return;
    if (el?.isConnected) el.focus({ preventScroll: true });
  }, []);
}
