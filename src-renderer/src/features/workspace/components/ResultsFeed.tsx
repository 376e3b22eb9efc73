/** The Workspace's right column: a live card per job submitted from here, newest first. */
import { useEffect, useId, useRef } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { useStudio } from '../../../store.ts';
import { JobCard } from './JobCard.tsx';

export function ResultsFeed() {
  const ids = useStudio(useShallow((s) => s.submitted.filter((id) => !s.hiddenCards.includes(id))));
  const navigate = useStudio((s) => s.navigate);
  const headingId = useId();
  const section = useRef<HTMLElement>(null);
  const newest = ids[0] ?? null;
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
        {ids.length > 0 ? <span className="section-count">{ids.length}</span> : null}
        <span className="ws-spacer" />
        <button type="button" className="btn btn-link" onClick={() => navigate('queue')}>
          Open queue
        </button>
        <button type="button" className="btn btn-link" onClick={() => navigate('library')}>
          Open library
        </button>
      </div>
      {ids.length === 0 ? (
        <div className="empty-state ws-empty">
          <p className="empty-title">Your results land here</p>
          <p>
            Describe a picture or a clip, pick a job type and press Generate. Each job gets a card with its progress and a live
            preview; the images or the clip appear in it as soon as they are made, and stay in the Library.
          </p>
        </div>
      ) : (
        <ul className="job-list ws-cards">
          {ids.map((id) => (
            <JobCard key={id} id={id} />
          ))}
        </ul>
      )}
    </section>
  );
}
