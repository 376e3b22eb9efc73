import { Tabs, Toast, Tooltip } from 'radix-ui';
import type { ReactNode } from 'react';
import { LibraryView } from '../features/library/components/LibraryView.tsx';
import { ModelsView } from '../features/models/components/ModelsView.tsx';
import { isViewId } from '../features/navigation/store.ts';
import type { ViewId } from '../features/navigation/store.ts';
import { Toasts } from '../features/notices/components/Toasts.tsx';
import { QueueView } from '../features/queue/components/QueueView.tsx';
import { selectActiveCount } from '../features/queue/selectors.ts';
import { SettingsView } from '../features/settings/components/SettingsView.tsx';
import { WorkspaceView } from '../features/workspace/components/WorkspaceView.tsx';
import { useStudio } from '../store.ts';
import { LibraryIcon, ModelsIcon, QueueIcon, SettingsIcon, WorkspaceIcon } from '../components/icons.tsx';
import { StatusBar } from './StatusBar.tsx';
import { ConnectionNotice } from '../features/connection/components/ConnectionNotice.tsx';

const NAV: readonly { id: ViewId; label: string; icon: () => ReactNode; view: () => ReactNode }[] = [
  { id: 'workspace', label: 'Workspace', icon: WorkspaceIcon, view: WorkspaceView },
  { id: 'library', label: 'Library', icon: LibraryIcon, view: LibraryView },
  { id: 'queue', label: 'Queue', icon: QueueIcon, view: QueueView },
  { id: 'models', label: 'Models', icon: ModelsIcon, view: ModelsView },
  { id: 'settings', label: 'Settings', icon: SettingsIcon, view: SettingsView },
];

function QueueCount() {
  const n = useStudio(selectActiveCount);
  return n > 0 ? (
    <span className="nav-count" aria-label={`${n} active`}>
      {n}
    </span>
  ) : null;
}

export function App() {
  const view = useStudio((s) => s.view);
  const navigate = useStudio((s) => s.navigate);
  const version = useStudio((s) => s.appInfo?.version ?? null);

  return (
    <Tooltip.Provider>
      <Toast.Provider swipeDirection="right" label="Notification">
        <div className="app">
          <ConnectionNotice />
          <Tabs.Root
            className="frame"
            orientation="vertical"
            value={view}
            onValueChange={(v) => isViewId(v) && navigate(v)}
          >
            <aside className="sidebar">
              <div className="brand">
                <span className="brand-mark" aria-hidden="true" />
                <span className="brand-name">
                  OurVidz <span>Studio</span>
                </span>
              </div>
              <Tabs.List className="nav" aria-label="Sections">
                {NAV.map(({ id, label, icon: Icon }) => (
                  <Tabs.Trigger key={id} value={id} className="nav-item">
                    <Icon />
                    <span className="nav-label">{label}</span>
                    {id === 'queue' ? <QueueCount /> : null}
                  </Tabs.Trigger>
                ))}
              </Tabs.List>
              {version ? <div className="sidebar-foot">v{version}</div> : null}
            </aside>
            <main className="content">
              {NAV.map(({ id, view: View }) => (
                <Tabs.Content key={id} value={id} className="content-pane">
                  <View />
                </Tabs.Content>
              ))}
            </main>
          </Tabs.Root>
          <StatusBar />
        </div>
        <Toasts />
      </Toast.Provider>
    </Tooltip.Provider>
  );
}
