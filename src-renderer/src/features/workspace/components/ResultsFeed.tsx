/** The Workspace's right column: a live card per job submitted from here (a sheet per X/Y grid), newest first. */
import { useEffect, useId, useRef } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { useStudio } from '../../../store.ts';
import type { Sheet } from '../store.ts';
import { JobCard } from './JobCard.tsx';
import { SheetCard } from './SheetCard.tsx';

/**
 * The feed's entries, newest first, as `job:<id>` or `sheet:<id>`: a grid's jobs are shown once, as
 * their sheet, where its newest job would be (a sheet still being queued goes on top).
 */
export function feedEntries(submitted: readonly string[], hidden: readonly string[], sheets: Readonly<Record<string, Sheet>>): string[] {
  const sheetOf = new Map<string, string>();
  for (const sheet of Object.values(sheets)) for (const cell of sheet.cells) if (cell) sheetOf.set(cell, sheet.id);
  const entries: string[] = [];
  const seen = new Set<string>();
  for (const sheet of Object.values(sheets)) {
    if (sheet.cells.every((c) => c === '') && !hidden.includes(sheet.id)) {
      entries.push(`sheet:${sheet.id}`);
      seen.add(sheet.id);
    }
  }
  for (const id of submitted) {
    const sheetId = sheetOf.get(id);
    if (sheetId !== undefined) {
      if (!seen.has(sheetId) && !hidden.includes(sheetId)) entries.push(`sheet:${sheetId}`);
      seen.add(sheetId);
    } else if (!hidden.includes(id)) entries.push(`job:${id}`);
  }
  return entries;
}

export function ResultsFeed() {
  const entries = useStudio(useShallow((s) => feedEntries(s.submitted, s.hiddenCards, s.sheets)));
  const navigate = useStudio((s) => s.navigate);
  const headingId = useId();
  const section = useRef<HTMLElement>(null);
  const newest = entries[0] ?? null;
  // A new job goes on top: bring it into view, wherever the feed was scrolled to.
  useEffect(() => {
    if (newest !== null) section.current?.scrollTo({ top: 0, behavior: 'smooth' });
  }, [newest]);
  return (
    <section className="ws-feed" aria-labelledby={headingId} ref={section}>
      <div className="ws-feed-head">
        <h2 className="section-title" id={headingId}>
          Submitted from here
        </h2>
        {entries.length > 0 ? <span className="section-count">{entries.length}</span> : null}
        <span className="ws-spacer" />
        <button type="button" className="btn btn-link" onClick={() => navigate('queue')}>
          Open queue
        </button>
        <button type="button" className="btn btn-link" onClick={() => navigate('library')}>
          Open library
        </button>
      </div>
      {entries.length === 0 ? (
        <div className="empty-state ws-empty">
          <p className="empty-title">Your results land here</p>
          <p>
            Describe a picture or a clip, pick a job type and press Generate. Each job gets a card with its progress and a live
            preview; the images or the clip appear in it as soon as they are made, and stay in the Library.
          </p>
        </div>
      ) : (
        <ul className="job-list ws-cards">
          {entries.map((entry) =>
            entry.startsWith('sheet:') ? <SheetCard key={entry} id={entry.slice(6)} /> : <JobCard key={entry} id={entry.slice(4)} />,
          )}
        </ul>
      )}
    </section>
  );
}
