import { ViewHeader } from '../../../app/ViewHeader.tsx';
import { GenerateForm } from './GenerateForm.tsx';
import { ResultsFeed } from './ResultsFeed.tsx';
import '../workspace.css';

export function WorkspaceView() {
  return (
    <div className="view ws-view">
      <ViewHeader
        title="Workspace"
        description="Describe what you want to see, pick a job type and generate. It runs on your GPU; results land on the right as they are made."
      />
      <div className="ws-layout">
        <GenerateForm />
        <ResultsFeed />
      </div>
    </div>
  );
}
