import { ViewHeader } from '../../../app/ViewHeader.tsx';
import { useStudio } from '../../../store.ts';

export function SettingsView() {
  const info = useStudio((s) => s.appInfo);
  return (
    <div className="view">
      <ViewHeader title="Settings" description="How the studio uses this machine." />
      <div className="placeholder panel">
        <p className="placeholder-kicker">Coming in a later release</p>
        <h2>Settings will live here</h2>
        <ul className="placeholder-list">
          <li>Model folders to scan, and the GPU memory budget the scheduler keeps to.</li>
          <li>Execution provider preference (CUDA, DirectML, WebGPU, CPU) and the ffmpeg used for video.</li>
          <li>Default presets per job type.</li>
          <li>Optional sign-in to mirror assets and job records to your OurVidz cloud project.</li>
        </ul>
      </div>
      {info ? (
        <section className="panel" aria-label="This installation">
          <h2 className="panel-title">This installation</h2>
          <dl className="facts facts--wide">
            <dt>Version</dt>
            <dd>{info.version}</dd>
            <dt>Data folder</dt>
            <dd>
              <code>{info.dataDir}</code>
            </dd>
            <dt>Model folders</dt>
            <dd>{info.modelDirs.length > 0 ? info.modelDirs.map((d) => <code key={d}>{d}</code>) : 'none configured'}</dd>
            <dt>Execution providers</dt>
            <dd>{info.providers.length > 0 ? info.providers.join(' → ') : 'none found'}</dd>
          </dl>
        </section>
      ) : null}
    </div>
  );
}
