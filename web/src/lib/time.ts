// Dates as people read them: relative when recent, local otherwise.
const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
const timeFormat = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const dayFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'full' });

export function relativeTime(iso: string, now = Date.now()): string {
  const then = Date.parse(iso);
  const seconds = Math.round((then - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 45) return 'just now';
  if (abs < 3600) return rtf.format(Math.round(seconds / 60), 'minute');
  const sameDay = new Date(then).toDateString() === new Date(now).toDateString();
  if (sameDay) return `today at ${timeFormat.format(then)}`;
  const yesterday = new Date(now - 86_400_000).toDateString() === new Date(then).toDateString();
  if (yesterday) return `yesterday at ${timeFormat.format(then)}`;
  return dateFormat.format(then);
}

export const fullDate = (iso: string) => dateFormat.format(Date.parse(iso));
export const dayLabel = (iso: string) => dayFormat.format(Date.parse(iso));
export const shortTime = (iso: string) => timeFormat.format(Date.parse(iso));
