// Notices: short messages for what just happened (a refusal, a removal from a guild), read out
// by screen readers through an aria-live region.
import { type ReactNode, createContext, useCallback, useContext, useMemo, useState } from 'react';

export interface Notice {
  id: number;
  text: string;
  kind: 'info' | 'error';
}

interface NoticeApi {
  notify(text: string, kind?: Notice['kind']): void;
}

const NoticeContext = createContext<NoticeApi>({ notify: () => undefined });

let nextId = 0;

export function NoticeProvider({ children }: { children: ReactNode }) {
  const [notices, setNotices] = useState<Notice[]>([]);
  const dismiss = useCallback((id: number) => setNotices((all) => all.filter((n) => n.id !== id)), []);
  const notify = useCallback(
    (text: string, kind: Notice['kind'] = 'info') => {
      const id = ++nextId;
      setNotices((all) => [...all.filter((n) => n.text !== text), { id, text, kind }].slice(-4));
      setTimeout(() => dismiss(id), kind === 'error' ? 8000 : 5000);
    },
    [dismiss],
  );
  const api = useMemo(() => ({ notify }), [notify]);
  return (
    <NoticeContext.Provider value={api}>
      {children}
      <div className="notices" role="status" aria-live="polite">
        {notices.map((notice) => (
          <div key={notice.id} className={`notice notice-${notice.kind}`} data-testid="notice">
            <span>{notice.text}</span>
            <button type="button" className="icon-button" aria-label="Dismiss" onClick={() => dismiss(notice.id)}>
              ×
            </button>
          </div>
        ))}
      </div>
    </NoticeContext.Provider>
  );
}

export const useNotices = () => useContext(NoticeContext);
