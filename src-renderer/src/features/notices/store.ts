import type { SliceCreator } from '../../store-types.ts';

export interface Notice {
  readonly id: number;
  readonly kind: 'error' | 'info';
  readonly title: string;
  readonly message: string;
}

export interface NoticesSlice {
  readonly notices: readonly Notice[];
  notify(notice: Omit<Notice, 'id'>): void;
  dismissNotice(id: number): void;
}

let nextId = 1;
const MAX_VISIBLE = 4;

export const createNoticesSlice: SliceCreator<NoticesSlice> = (set) => ({
  notices: [],
  notify(notice) {
    set((s) => {
      // The same failure repeated (e.g. every reconnect) shows once, not as a pile of toasts.
      if (s.notices.some((n) => n.title === notice.title && n.message === notice.message)) return {};
      return { notices: [...s.notices, { ...notice, id: nextId++ }].slice(-MAX_VISIBLE) };
    });
  },
  dismissNotice: (id) => set((s) => ({ notices: s.notices.filter((n) => n.id !== id) })),
});
