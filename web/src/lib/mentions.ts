// Mentions travel as `<@userId>` in a message's content. People type and read `@username`.
export interface MentionUser {
  id: string;
  username: string;
  displayName: string;
}

export type ContentPart = { kind: 'text'; text: string } | { kind: 'mention'; userId: string; user: MentionUser | null };

const TOKEN = /<@([^<>\s]+)>/g;

/** Splits content into text and mentions, resolving users from the message's mentions. */
export function parseContent(content: string, mentions: readonly MentionUser[]): ContentPart[] {
  const parts: ContentPart[] = [];
  let last = 0;
  for (const match of content.matchAll(TOKEN)) {
    const index = match.index ?? 0;
    if (index > last) parts.push({ kind: 'text', text: content.slice(last, index) });
    const userId = match[1]!;
    parts.push({ kind: 'mention', userId, user: mentions.find((u) => u.id === userId) ?? null });
    last = index + match[0].length;
  }
  if (last < content.length) parts.push({ kind: 'text', text: content.slice(last) });
  return parts;
}

/** `@username` of known users → `<@id>`, for sending. */
export function encodeMentions(text: string, known: readonly MentionUser[]): string {
  if (known.length === 0) return text;
  const byName = new Map(known.map((u) => [u.username.toLowerCase(), u.id]));
  return text.replace(/(^|[^\w@<])@([\w.-]+)/g, (whole, before: string, name: string) => {
    const id = byName.get(name.toLowerCase());
    return id ? `${before}<@${id}>` : whole;
  });
}

/** `<@id>` → `@username`, for editing. */
export function decodeMentions(content: string, mentions: readonly MentionUser[]): string {
  return content.replace(TOKEN, (whole, id: string) => {
    const user = mentions.find((u) => u.id === id);
    return user ? `@${user.username}` : whole;
  });
}

/** The `@partial` being typed just before the caret, if any. */
export function mentionQueryAt(text: string, caret: number): { start: number; query: string } | null {
  const before = text.slice(0, caret);
  const match = /(^|\s)@([\w.-]*)$/.exec(before);
  if (!match) return null;
  return { start: caret - match[2]!.length - 1, query: match[2]! };
}
