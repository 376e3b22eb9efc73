import { ViewHeader } from '../../../app/ViewHeader.tsx';
import { useStudio } from '../../../store.ts';

export function LibraryView() {
  const navigate = useStudio((s) => s.navigate);
  return (
    <div className="view">
      <ViewHeader title="Library" description="Everything you generate, kept on this machine." />
      <div className="placeholder panel">
        <p className="placeholder-kicker">Coming in a later release</p>
        <h2>The library will live here</h2>
        <ul className="placeholder-list">
          <li>Every image and video you generate, in one grid, newest first, grouped by job type.</li>
          <li>Search by prompt; filter by job type, model and date.</li>
          <li>Open an asset to see its prompt, seed and settings, re-run it or one image of its batch.</li>
          <li>Mirror to your OurVidz cloud storage when you sign in (optional).</li>
        </ul>
        <p className="muted">
          Until then, finished jobs and how many files they produced are listed in the{' '}
          <button type="button" className="btn btn-link" onClick={() => navigate('queue')}>
            Queue
          </button>
          .
        </p>
      </div>
    </div>
  );
}
