import { ViewHeader } from '../../../app/ViewHeader.tsx';
import { GenerateForm } from './GenerateForm.tsx';
import { LoadRecipeButton, RecipeDropZone } from './RecipeLoad.tsx';
import { ResultsFeed } from './ResultsFeed.tsx';
import '../workspace.css';

export function WorkspaceView() {
  return (
    <RecipeDropZone className="view ws-view">
      <ViewHeader
        title="Workspace"
        description="Describe what you want to see, pick a job type and generate. It runs on your GPU; results land on the right as they are made. Drop a picture from any tool here to reuse its settings."
        actions={<LoadRecipeButton />}
      />
      <div className="ws-layout">
        <GenerateForm />
        <ResultsFeed />
      </div>
    </RecipeDropZone>
  );
}
