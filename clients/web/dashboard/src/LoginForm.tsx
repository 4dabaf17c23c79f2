import { useState, type FormEvent } from 'react';
import { login, SignalStreamError } from '@signalstream/client';
import { sessionFromToken, type Session } from './session';

export function loginErrorMessage(err: unknown, apiUrl: string): string {
  if (err instanceof SignalStreamError) {
    switch (err.kind) {
      case 'auth':
        return 'Wrong username or password.';
      case 'unreachable':
        return `Cannot reach the server at ${apiUrl}. Check your connection or that the server is running, then try again.`;
      case 'http':
        if (err.status === 429) return 'Too many attempts. Wait a moment, then try again.';
        if (err.status === 403) return 'This account may not log in (it may be disabled).';
        if (err.status !== undefined && err.status >= 500)
          return `The server had a problem (${err.status}). Try again in a moment.`;
        return err.message;
      default:
        return err.message;
    }
  }
  return err instanceof Error ? err.message : String(err);
}

export function LoginForm(props: { apiUrl: string; notice: string | null; onLoggedIn: (s: Session) => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const t = await login({ apiUrl: props.apiUrl }, username.trim(), password);
      props.onLoggedIn(sessionFromToken(username.trim(), t));
    } catch (err) {
      setError(loginErrorMessage(err, props.apiUrl));
      setBusy(false);
    }
  }

  return (
    <main className="card narrow">
      <h1>
        <span className="logo">◆</span> SignalStream
      </h1>
      <p className="muted">Live trading signals. Log in to see your feed.</p>
      {props.notice && (
        <p className="notice" role="status" data-testid="login-notice">
          {props.notice}
        </p>
      )}
      <form onSubmit={submit} aria-label="Log in">
        <label>
          Username
          <input
            name="username"
            autoComplete="username"
            required
            value={username}
            onChange={(e) => setUsername(e.target.value)}
          />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        {error && (
          <p className="error" role="alert" data-testid="login-error">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
      </form>
    </main>
  );
}
