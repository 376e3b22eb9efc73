import { Toast } from 'radix-ui';
import { useStudio } from '../../../store.ts';

/** Errors (and the odd note) from the engine, as toasts that say what happened. */
export function Toasts() {
  const notices = useStudio((s) => s.notices);
  const dismiss = useStudio((s) => s.dismissNotice);
  return (
    <>
      {notices.map((n) => (
        <Toast.Root
          key={n.id}
          className={`toast toast--${n.kind}`}
          duration={n.kind === 'error' ? 10_000 : 5_000}
          type={n.kind === 'error' ? 'foreground' : 'background'}
          onOpenChange={(open) => {
            if (!open) dismiss(n.id);
          }}
        >
          <Toast.Title className="toast-title">{n.title}</Toast.Title>
          <Toast.Description className="toast-message">{n.message}</Toast.Description>
          <Toast.Close className="toast-close" aria-label="Dismiss">
            ×
          </Toast.Close>
        </Toast.Root>
      ))}
      <Toast.Viewport className="toast-viewport" />
    </>
  );
}
