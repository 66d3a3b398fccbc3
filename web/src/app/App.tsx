// The app's root: the session decides between the sign-in screens and the chat; each signed-in
// user gets a client (and so a cache and a socket) of their own, dropped at sign-out.
import { useEffect, useState, useSyncExternalStore } from 'react';
import { Provider } from 'urql';
import { AuthScreen } from '../features/auth/AuthScreen';
import { type ChatClient, createChatClient } from '../lib/client';
import { navigate, useRoute } from '../lib/router';
import { NoticeProvider } from '../ui/notices';
import { session } from './session';
import { Shell } from './Shell';

export function App() {
  const tokens = useSyncExternalStore(session.subscribe, session.getSnapshot);
  const route = useRoute();
  const userId = tokens?.userId ?? null;

  useEffect(() => {
    if (userId && (route.name === 'login' || route.name === 'register')) navigate('/', { replace: true });
  }, [userId, route.name]);

  return (
    <NoticeProvider>
      {userId ? (
        <SignedIn key={userId} />
      ) : (
        <AuthScreen mode={route.name === 'register' ? 'register' : 'login'} inviteCode={route.name === 'invite' ? route.code : null} />
      )}
    </NoticeProvider>
  );
}

function SignedIn() {
  const [chat, setChat] = useState<ChatClient | null>(null);
  useEffect(() => {
    const created = createChatClient(session);
    setChat(created);
    return () => created.dispose();
  }, []);
  if (!chat) return null;
  return (
    <Provider value={chat.client}>
      <Shell chat={chat} />
    </Provider>
  );
}
