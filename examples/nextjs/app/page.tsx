import { getServerSession } from 'next-auth';
import { authOptions } from '../auth';
import { LiveSignals } from './LiveSignals';

export default async function Home() {
  const session = await getServerSession(authOptions);
  if (!session?.user?.name) {
    return (
      <main>
        <h1>SignalStream + Next.js</h1>
        <a href="/api/auth/signin">Sign in</a>
      </main>
    );
  }
  return (
    <main>
      <h1>Live signals</h1>
      <p>
        Signed in as <b data-testid="user">{session.user.name}</b> · <a href="/api/auth/signout">Sign out</a>
      </p>
      <LiveSignals user={session.user.name} />
    </main>
  );
}
