// ReadStateService's unread and mention counts: exact below UNREAD_COUNT_CAP, the cap itself
// ("1,000 or more") above it, per channel and over a guild, whatever wrote the rows.
// History is seeded straight into the database (the way the service's counts read it);
// users, guilds and read markers go through the API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/client.js';
import { Access } from '../../src/services/access.js';
import { Actor } from '../../src/services/actor.js';
import { newId } from '../../src/services/ids.js';
import { ReadStateService, UNREAD_COUNT_CAP } from '../../src/services/readStates.js';
import { type TestServer, startTestServer } from '../support/app.js';
import { type Client, createChannel, createGuild, invite, localId, send, signUp } from '../support/client.js';

let server: TestServer;
let db: Db;
let service: ReadStateService;

beforeAll(async () => {
  server = await startTestServer();
  db = server.app.db.prisma;
  service = new ReadStateService(db, new Access(db));
});
afterAll(() => server?.stop());

const actorOf = (client: Client) => new Actor(db, localId(client.userId!));

/** `count` messages by `author` in the channel, in one statement, each mentioning `mentioned` if given. */
async function seed(channelGlobalId: string, author: Client, count: number, mentioned?: Client): Promise<string[]> {
  const channelId = localId(channelGlobalId);
  const ids = Array.from({ length: count }, () => newId());
  await db.message.createMany({
    data: ids.map((id, i) => ({ id, channelId, authorId: localId(author.userId!), content: `seeded ${i}` })),
  });
  if (mentioned) {
    // without channelId, as a writer that does not know the column would insert them
    await db.messageMention.createMany({ data: ids.map((messageId) => ({ messageId, userId: localId(mentioned.userId!) })) });
  }
  return ids;
}

/** Two users in a fresh guild; `reader` joined before anything was sent. */
async function pair() {
  const author = await signUp(server.graphqlUrl);
  const reader = await signUp(server.graphqlUrl);
  const guild = await createGuild(author, 'Counts');
  await invite(author, guild.guildId, reader);
  // messages of the millisecond the reader joined in do not count as after it
  await new Promise((r) => setTimeout(r, 5));
  return { author, reader, ...guild };
}

describe('unread and mention counts of a channel', () => {
  it('are exact below the cap and stop at the cap above it', async () => {
    const { author, reader, generalId } = await pair();
    const channelId = localId(generalId);
    const ids = await seed(generalId, author, UNREAD_COUNT_CAP - 1, reader);
    expect(await service.unreadCount(actorOf(reader), channelId)).toBe(UNREAD_COUNT_CAP - 1);
    expect(await service.mentionCount(actorOf(reader), channelId)).toBe(UNREAD_COUNT_CAP - 1);

    ids.push(...(await seed(generalId, author, 1, reader)));
    expect(await service.unreadCount(actorOf(reader), channelId)).toBe(UNREAD_COUNT_CAP);

    ids.push(...(await seed(generalId, author, 500, reader)));
    expect(await service.unreadCount(actorOf(reader), channelId)).toBe(UNREAD_COUNT_CAP);
    expect(await service.mentionCount(actorOf(reader), channelId)).toBe(UNREAD_COUNT_CAP);

    // reading up to the seventh newest leaves six, exactly
    await service.markRead(actorOf(reader), channelId, ids[ids.length - 7]!);
    expect(await service.unreadCount(actorOf(reader), channelId)).toBe(6);
    expect(await service.mentionCount(actorOf(reader), channelId)).toBe(6);
    // the author's own messages are never unread to them
    expect(await service.unreadCount(actorOf(author), channelId)).toBe(0);
  });

  it('count only what came after joining, for a member with no read marker yet', async () => {
    const { author, reader, guildId, generalId } = await pair();
    await seed(generalId, author, 3);
    const late = await signUp(server.graphqlUrl);
    await invite(author, guildId, late);
    await new Promise((r) => setTimeout(r, 5));
    await seed(generalId, author, 2, late);
    expect(await service.unreadCount(actorOf(reader), localId(generalId))).toBe(5);
    expect(await service.unreadCount(actorOf(late), localId(generalId))).toBe(2);
    expect(await service.mentionCount(actorOf(late), localId(generalId))).toBe(2);
  });

  it('count mentions written in one statement with their message (no channel given)', async () => {
    const { author, reader, generalId } = await pair();
    const id = newId();
    // message and mention in one statement, the mention selected from the message's RETURNING
    await db.$executeRaw`
      WITH m AS (
        INSERT INTO "Message" (id, "channelId", "authorId", content)
        VALUES (${id}, ${localId(generalId)}, ${localId(author.userId!)}, 'hi') RETURNING id
      )
      INSERT INTO "MessageMention" ("messageId", "userId") SELECT m.id, ${localId(reader.userId!)} FROM m`;
    expect(await service.mentionCount(actorOf(reader), localId(generalId))).toBe(1);
    // and in the order where the mention is inserted before its message exists
    const second = newId();
    await db.$executeRaw`
      WITH m AS (
        INSERT INTO "Message" (id, "channelId", "authorId", content)
        VALUES (${second}, ${localId(generalId)}, ${localId(author.userId!)}, 'again')
      )
      INSERT INTO "MessageMention" ("messageId", "userId") VALUES (${second}, ${localId(reader.userId!)})`;
    expect(await service.mentionCount(actorOf(reader), localId(generalId))).toBe(2);
    expect(await db.messageMention.count({ where: { messageId: { in: [id, second] }, channelId: null } })).toBe(0);
  });

  it('drop a deleted message, and its mention, from the counts', async () => {
    const { author, reader, generalId } = await pair();
    const [first] = await seed(generalId, author, 3, reader);
    await db.message.delete({ where: { id: first! } });
    expect(await service.unreadCount(actorOf(reader), localId(generalId))).toBe(2);
    expect(await service.mentionCount(actorOf(reader), localId(generalId))).toBe(2);
  });
});

describe('the guild summary', () => {
  it('counts unread channels exactly and stops the totals at the cap over all channels', async () => {
    const { author, reader, guildId, generalId } = await pair();
    const randomId = await createChannel(author, guildId, 'random');
    const quietId = await createChannel(author, guildId, 'quiet');
    await createChannel(author, guildId, 'voice', 'VOICE');
    await seed(generalId, author, 600, reader);
    await seed(randomId, author, 300);
    const quiet = await seed(quietId, author, 1);
    const summary = () => service.guildSummary(actorOf(reader), localId(guildId));

    expect(await summary()).toEqual({ unreadChannelCount: 3, unreadMessageCount: 901, mentionCount: 600 });
    await seed(randomId, author, 200, reader);
    // 1,101 unread and 800 mentions: the total stops at the cap, the mentions are exact
    expect(await summary()).toEqual({ unreadChannelCount: 3, unreadMessageCount: UNREAD_COUNT_CAP, mentionCount: 800 });
    await seed(randomId, author, 300, reader);
    expect(await summary()).toEqual({
      unreadChannelCount: 3,
      unreadMessageCount: UNREAD_COUNT_CAP,
      mentionCount: UNREAD_COUNT_CAP,
    });

    await service.markRead(actorOf(reader), localId(quietId), quiet[0]!);
    expect((await summary())!.unreadChannelCount).toBe(2);
  });

  it('is null for someone outside the guild, and all zero for a sender', async () => {
    const { author, guildId, generalId } = await pair();
    const stranger = await signUp(server.graphqlUrl);
    expect(await service.guildSummary(actorOf(stranger), localId(guildId))).toBeNull();
    await send(author, generalId, 'mine');
    expect(await service.guildSummary(actorOf(author), localId(guildId))).toEqual({
      unreadChannelCount: 0,
      unreadMessageCount: 0,
      mentionCount: 0,
    });
  });
});
