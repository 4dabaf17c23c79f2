import { Component, useCallback, useRef, useState, type ErrorInfo, type ReactNode } from 'react';
import { Dashboard } from './Dashboard';
import { LoginForm } from './LoginForm';
import { loadSession, saveSession, type Session } from './session';

export function App() {
  // The server that serves the dashboard is its API, unless the build says otherwise.
  const apiUrl = import.meta.env.VITE_API_URL || window.location.origin;
  const [session, setSessionState] = useState<Session | null>(() => loadSession());
  const [notice, setNotice] = useState<string | null>(null);
  const sessionRef = useRef(session);

  const setSession = useCallback((s: Session | null) => {
    sessionRef.current = s;
    saveSession(s);
    setSessionState(s);
  }, []);

  /** A token refresh: keep the new token for later connects without re-rendering the dashboard. */
  const updateToken = useCallback((s: Session) => {
    sessionRef.current = s;
    saveSession(s);
  }, []);

  const getSession = useCallback(() => sessionRef.current, []);

  const logout = useCallback(
    (message: string | null) => {
      setNotice(message);
      setSession(null);
    },
    [setSession],
  );

  return (
    <ErrorBoundary>
      {session ? (
        <Dashboard
          key={session.userId}
          apiUrl={apiUrl}
          session={session}
          getSession={getSession}
          updateSession={updateToken}
          onLogout={logout}
        />
      ) : (
        <LoginForm
          apiUrl={apiUrl}
          notice={notice}
          onLoggedIn={(s) => {
            setNotice(null);
            setSession(s);
          }}
        />
      )}
    </ErrorBoundary>
  );
}

/** Never a blank page: a render bug shows a message and a way out. */
class ErrorBoundary extends Component<{ children: ReactNode }, { error: Error | null }> {
  override state: { error: Error | null } = { error: null };

  static getDerivedStateFromError(error: Error) {
    return { error };
  }

  override componentDidCatch(error: Error, info: ErrorInfo) {
    console.error('Dashboard error', error, info.componentStack);
  }

  override render() {
    if (this.state.error) {
      return (
        <main className="card narrow" role="alert">
          <h1>Something went wrong</h1>
          <p>The dashboard hit an unexpected error: {this.state.error.message}</p>
          <button type="button" onClick={() => location.reload()}>
            Reload the page
          </button>
        </main>
      );
    }
    return this.props.children;
  }
}
