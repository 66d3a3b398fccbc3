// A small router over the History API: the app has a handful of screens, not worth a library.
// Paths: /login, /register, /invite/<code>, /discover, /g/<guild>/<channel>, /g/<guild>/settings.
import { type AnchorHTMLAttributes, type MouseEvent, useSyncExternalStore } from 'react';

export type Route =
  | { name: 'home' }
  | { name: 'login' }
  | { name: 'register' }
  | { name: 'discover' }
  | { name: 'invite'; code: string }
  | { name: 'guild'; guildId: string; channelId: string | null }
  | { name: 'settings'; guildId: string; tab: string | null }
  | { name: 'notFound' };

export function parseRoute(pathname: string): Route {
  const parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const [first, second, third] = parts;
  if (parts.length === 0) return { name: 'home' };
  if (first === 'login' && parts.length === 1) return { name: 'login' };
  if (first === 'register' && parts.length === 1) return { name: 'register' };
  if (first === 'discover' && parts.length === 1) return { name: 'discover' };
  if (first === 'invite' && second && parts.length === 2) return { name: 'invite', code: second };
  if (first === 'g' && second) {
    if (third === 'settings') return { name: 'settings', guildId: second, tab: parts[3] ?? null };
    if (parts.length <= 3) return { name: 'guild', guildId: second, channelId: third ?? null };
  }
  return { name: 'notFound' };
}

export const paths = {
  home: () => '/',
  login: () => '/login',
  register: () => '/register',
  discover: () => '/discover',
  invite: (code: string) => `/invite/${encodeURIComponent(code)}`,
  guild: (guildId: string, channelId?: string | null) =>
    `/g/${encodeURIComponent(guildId)}${channelId ? `/${encodeURIComponent(channelId)}` : ''}`,
  settings: (guildId: string, tab?: string) => `/g/${encodeURIComponent(guildId)}/settings${tab ? `/${tab}` : ''}`,
};

const listeners = new Set<() => void>();
const notify = () => {
  for (const listener of listeners) listener();
};
window.addEventListener('popstate', notify);

export function navigate(path: string, { replace = false } = {}): void {
  const current = window.location.pathname + window.location.search;
  if (current === path) return;
  if (replace) window.history.replaceState(null, '', path);
  else window.history.pushState(null, '', path);
  notify();
}

function subscribe(listener: () => void) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function usePathname(): string {
  return useSyncExternalStore(subscribe, () => window.location.pathname);
}

export function useRoute(): Route {
  return parseRoute(usePathname());
}

/** An <a> that navigates without reloading (modifier-clicks open a new tab as usual). */
export function Link({ href, onClick, ...rest }: AnchorHTMLAttributes<HTMLAnchorElement> & { href: string }) {
  const handle = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event);
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(href);
  };
  return <a href={href} onClick={handle} {...rest} />;
}
