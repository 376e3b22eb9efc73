import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createActions } from './actions.ts';
import { resolveTransport } from './api/index.ts';
import { ActionsProvider } from './app/actions-context.tsx';
import { App } from './app/App.tsx';
import { MissingToken } from './app/MissingToken.tsx';
import { LibraryProvider } from './features/library/context.tsx';
import { createLibraryController } from './features/library/controller.ts';
import { connectWorkspaceSession } from './features/workspace/session.ts';
import { useStudio } from './store.ts';
import { connectStore } from './sync.ts';
import './styles.css';

const root = createRoot(document.getElementById('root')!);
const transport = resolveTransport();

if (transport.kind === 'no-token') {
  root.render(<MissingToken />);
} else {
  connectStore(transport.api, transport.connection, useStudio);
  // The draft and the session's cards, as they were before a reload.
  connectWorkspaceSession(transport.api, useStudio);
  const actions = createActions(transport.api, useStudio);
  const library = createLibraryController(transport.api, transport.connection, useStudio, { electron: transport.kind === 'electron' });
  root.render(
    <StrictMode>
      <ActionsProvider actions={actions}>
        <LibraryProvider controller={library}>
          <App />
        </LibraryProvider>
      </ActionsProvider>
    </StrictMode>,
  );
}
