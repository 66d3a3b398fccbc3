// Initials on a colour derived from the id: no images to load, stable per user or guild.
const initials = (name: string) =>
  name
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((word) => [...word][0]?.toUpperCase() ?? '')
    .join('') || '?';

function hue(id: string): number {
  let h = 0;
  for (const char of id) h = (h * 31 + char.charCodeAt(0)) % 360;
  return h;
}

export function Avatar({ id, name, size = 40, status }: { id: string; name: string; size?: number; status?: string }) {
  return (
    <span className="avatar" style={{ width: size, height: size, background: `hsl(${hue(id)} 45% 42%)` }} aria-hidden="true">
      <span style={{ fontSize: size * 0.4 }}>{initials(name)}</span>
      {status ? <span className={`presence-dot presence-${status.toLowerCase()}`} /> : null}
    </span>
  );
}

export const statusLabel: Record<string, string> = {
  ONLINE: 'Online',
  IDLE: 'Idle',
  DND: 'Do not disturb',
  OFFLINE: 'Offline',
};
