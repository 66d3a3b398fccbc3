// Sends that arrive together are stored together (one statement, one commit) and each still
// gets the answer it would have got alone: stored in order, refused, or deduplicated by its
// nonce. Real concurrent HTTP requests, on PGlite and on PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, startTestServer } from '../support/app.js';
import { type Client, createChannel, guildWithMembers, signUp } from '../support/client.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ env: { MESSAGE_RATE_LIMIT: '0' } });
});
afterAll(() => server?.stop());

const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id content nonce author { id } } }`;
const HISTORY = `query($c: ID!) { channel(id: $c) { messages(first: 100) { edges { node { id content author { id } } } } } }`;
const SET_OVERWRITE = `mutation($c: ID!, $type: OverwriteTargetType!, $target: ID!, $allow: [Permission!]!, $deny: [Permission!]!) {
  setChannelPermissionOverwrite(channelId: $c, targetType: $type, targetId: $target, allow: $allow, deny: $deny) { allow }
}`;

describe('sends that arrive together', () => {
  it('each get their own answer: stored, refused, or the message their nonce already stored', async () => {
    const { owner, members, guildId, generalId } = await guildWithMembers(server.graphqlUrl, 6);
    const readOnly = await createChannel(owner, guildId, 'announcements');
    const { guild } = await owner.ok<{ guild: { roles: { id: string; position: number }[] } }>(
      `query($g: ID!) { guild(id: $g) { roles { id position } } }`,
      { g: guildId },
    );
    const everyone = guild.roles.find((r) => r.position === 0)!.id;
    await owner.ok(SET_OVERWRITE, { c: readOnly, type: 'ROLE', target: everyone, allow: [], deny: ['SEND_MESSAGES'] });
    const stranger = await signUp(server.graphqlUrl);

    type Send = { who: Client; input: Record<string, unknown>; expect: 'stored' | 'FORBIDDEN' | 'NOT_FOUND' | { sameAs: number } };
    const sends: Send[] = [];
    for (let round = 0; round < 5; round++) {
      for (const [i, m] of members.entries()) sends.push({ who: m, input: { channelId: generalId, content: `r${round} m${i}` }, expect: 'stored' });
      sends.push({ who: members[round]!, input: { channelId: readOnly, content: 'not here' }, expect: 'FORBIDDEN' });
      sends.push({ who: stranger, input: { channelId: generalId, content: 'nor here' }, expect: 'NOT_FOUND' });
    }
    // the same nonce twice from one author, and once from another (nonces are per author)
    const first = sends.push({ who: members[0]!, input: { channelId: generalId, content: 'once', nonce: 'n-1' }, expect: 'stored' }) - 1;
    sends.push({ who: members[0]!, input: { channelId: generalId, content: 'once', nonce: 'n-1' }, expect: { sameAs: first } });
    sends.push({ who: members[1]!, input: { channelId: generalId, content: 'mine', nonce: 'n-1' }, expect: 'stored' });

    const answers = await Promise.all(sends.map((s) => s.who.request<{ sendMessage: { id: string; content: string } }>(SEND, { input: s.input })));

    const storedIds = new Set<string>();
    for (const [i, s] of sends.entries()) {
      const answer = answers[i]!;
      if (s.expect === 'stored') {
        expect(answer.errors, JSON.stringify(answer.errors)).toBeUndefined();
        expect(answer.data!.sendMessage.content).toBe(s.input.content);
        storedIds.add(answer.data!.sendMessage.id);
      } else if (typeof s.expect === 'string') {
        expect(answer.errors?.[0]?.extensions?.code).toBe(s.expect);
      } else {
        // whichever of the two ran first stored it; the other answers with the same message
        expect(answer.data!.sendMessage.id).toBe(answers[s.expect.sameAs]!.data!.sendMessage.id);
      }
    }
    expect(storedIds.size).toBe(5 * members.length + 2);

    // the channel holds exactly what was acknowledged, each once
    const { channel } = await owner.ok<{ channel: { messages: { edges: { node: { id: string } }[] } } }>(HISTORY, { c: generalId });
    const inHistory = channel.messages.edges.map((e) => e.node.id);
    expect(new Set(inHistory)).toEqual(storedIds);
    expect(inHistory).toHaveLength(storedIds.size);
  });

  it('keep replies, mentions, read markers and counts as lone sends do', async () => {
    const { owner, members, generalId } = await guildWithMembers(server.graphqlUrl, 4);
    const [alice, bob, carol] = members as [Client, Client, Client, Client];
    const target = await owner.ok<{ sendMessage: { id: string } }>(SEND, { input: { channelId: generalId, content: 'the question' } });
    const ids = await Promise.all(members.map((m) => m.ok<{ viewer: { id: string } }>(`{ viewer { id } }`).then((r) => r.viewer.id)));
    const WITH_RELATIONS = `mutation($input: SendMessageInput!) {
      sendMessage(input: $input) { id content replyTo { id content } mentions { id } author { id } }
    }`;
    type Sent = { sendMessage: { id: string; content: string; replyTo: { id: string } | null; mentions: { id: string }[] } };
    // several sends per author at once, so that one batch holds two of the same author and channel
    const sends = Array.from({ length: 24 }, (_, i) => {
      const who = members[i % members.length]!;
      const mentioned = ids[(i + 1) % ids.length]!;
      const input = i % 3 === 0
        ? { channelId: generalId, content: `reply ${i}`, replyToId: target.sendMessage.id }
        : i % 3 === 1
          ? { channelId: generalId, content: `hey <@${mentioned}> ${i}` }
          : { channelId: generalId, content: `plain ${i}` };
      return { who, input, mentioned };
    });
    const before = server.app.db.queries.count;
    const answers = await Promise.all(sends.map((s) => s.who.ok<Sent>(WITH_RELATIONS, { input: s.input })));
    // together, not retried one by one
    expect(server.app.db.queries.count - before).toBeLessThan(sends.length);
    for (const [i, s] of sends.entries()) {
      const sent = answers[i]!.sendMessage;
      expect(sent.content).toBe(s.input.content);
      expect(sent.replyTo?.id ?? null).toBe(i % 3 === 0 ? target.sendMessage.id : null);
      expect(sent.mentions.map((u) => u.id)).toEqual(i % 3 === 1 ? [s.mentioned] : []);
    }
    // each author has read up to their own newest message: what others sent after it is unread
    const UNREAD = `query($c: ID!) {
      channel(id: $c) { unreadCount mentionCount messages(first: 100) { totalCount edges { node { author { id } mentions { id } } } } }
      viewer { messageCount }
    }`;
    type Unread = {
      channel: { unreadCount: number; mentionCount: number; messages: { totalCount: number; edges: { node: { author: { id: string }; mentions: { id: string }[] } }[] } };
      viewer: { messageCount: number };
    };
    for (const [i, member] of [alice, bob, carol].entries()) {
      const view = await member.ok<Unread>(UNREAD, { c: generalId });
      const history = view.channel.messages.edges.map((e) => e.node); // newest first
      const newer = history.slice(0, history.findIndex((m) => m.author.id === ids[i]));
      expect(view.channel.unreadCount).toBe(newer.length);
      expect(view.channel.mentionCount).toBe(newer.filter((m) => m.mentions.some((u) => u.id === ids[i])).length);
      expect(view.viewer.messageCount).toBe(sends.filter((s) => s.who === member).length);
      expect(view.channel.messages.totalCount).toBe(sends.length + 1);
      expect(history).toHaveLength(sends.length + 1);
    }
  });

  it('are stored in fewer statements than there were sends', async () => {
    const { members, generalId } = await guildWithMembers(server.graphqlUrl, 4);
    const before = server.app.db.queries.count;
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => members[i % members.length]!.request(SEND, { input: { channelId: generalId, content: `m${i}` } })),
    );
    expect(answers.every((a) => !a.errors)).toBe(true);
    expect(server.app.db.queries.count - before).toBeLessThan(40);
  });
});
