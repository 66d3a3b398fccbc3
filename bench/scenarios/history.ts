// Scenario "history": reads that must not grow with history. One channel gets 1,000,000
// messages by one author, another (in another guild) 100 by another author, written straight
// into PostgreSQL with INSERT … SELECT generate_series (ids are ULIDs: 10 characters of
// millisecond time, then 16 of "randomness", here a per-channel salt and the row number, so
// they sort by time as the API's own ids do). A third user, member of both guilds, has read
// nothing. A third channel gets newer messages than both (BENCH_HISTORY_OTHERS), as a busier
// channel elsewhere would. Each read is timed over HTTP, side by side, median of N.
import { randomBytes } from 'node:crypto';
import type { Bench } from '../lib/bench.js';
import { gql } from '../lib/http.js';
import {
  CREATE_GUILD,
  CREATE_INVITE,
  JOIN_GUILD,
  READ_MENTIONS,
  READ_MESSAGE_COUNT,
  READ_PAGE,
  READ_PAGE_TOTAL,
  READ_UNREAD,
  READ_VIEWER_UNREAD,
  REGISTER,
} from '../lib/operations.js';
import { PASSWORD } from '../lib/bench.js';
import { fmtInt, fmtMs, fmtRatio, median, wallNow } from '../lib/util.js';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** SQL for `chars` Crockford base-32 digits of a bigint expression, most significant first. */
function base32(expr: string, chars: number): string {
  const parts: string[] = [];
  for (let k = chars - 1; k >= 0; k--) parts.push(`substr('${ALPHABET}', (((${expr}) >> ${5 * k}) & 31)::int + 1, 1)`);
  return parts.join(' || ');
}

interface Side {
  guildId: string;
  guildDbId: string;
  channelId: string;
  channelDbId: string;
  author: { token: string; userId: string; dbId: string };
}

async function registerUser(url: string, name: string) {
  const { register } = await gql<{ register: { accessToken: string; user: { id: string } } }>(url, undefined, REGISTER, {
    input: { username: name, email: `${name}@bench.invalid`, password: PASSWORD },
  });
  return { token: register.accessToken, userId: register.user.id };
}

export async function history(bench: Bench): Promise<void> {
  const k = bench.knobs;
  const [a] = await bench.ensureInstances(1);
  const url = a!.graphqlUrl;
  const tag = `b${bench.runId}h`;
  const reader = await registerUser(url, `${tag}reader`);
  const { rows: readerRow } = await bench.db!.query<{ id: string }>(`SELECT id FROM "User" WHERE username = $1`, [`${tag}reader`]);
  const readerDbId = readerRow[0]!.id;

  const side = async (label: string): Promise<Side> => {
    const author = await registerUser(url, `${tag}${label}`);
    const { createGuild } = await gql<{ createGuild: { id: string; channels: { id: string }[] } }>(url, author.token, CREATE_GUILD, {
      input: { name: `History ${label}` },
    });
    const { createInvite } = await gql<{ createInvite: { code: string } }>(url, author.token, CREATE_INVITE, { guildId: createGuild.id });
    await gql(url, reader.token, JOIN_GUILD, { code: createInvite.code });
    const { rows } = await bench.db!.query<{ channel: string; author: string; guild: string }>(
      `SELECT c.id AS channel, u.id AS author, g.id AS guild FROM "Channel" c JOIN "Guild" g ON g.id = c."guildId" JOIN "User" u ON u.id = g."ownerId"
        WHERE u.username = $1`,
      [`${tag}${label}`],
    );
    return { guildId: createGuild.id, guildDbId: rows[0]!.guild, channelId: createGuild.channels[0]!.id, channelDbId: rows[0]!.channel, author: { ...author, dbId: rows[0]!.author } };
  };
  const big = await side('big');
  const small = await side('small');
  // a third guild whose channel is busier lately: in a real database the big channel is not the
  // one with the newest messages, and a read must not depend on what other channels hold
  const other = await side('other');

  // ---- seed, straight into PostgreSQL ------------------------------------------------------
  const seed = async (s: Side, count: number, endsAgoMs = 24 * 3600_000) => {
    const salt = BigInt(`0x${randomBytes(5).toString('hex')}`).toString();
    // the history ends a day ago, one message per millisecond before that
    const base = Date.now() - endsAgoMs - count;
    const id = `${base32(`${base}::bigint + i`, 10)} || ${base32(`${salt}::bigint`, 8)} || ${base32('i::bigint', 8)}`;
    const client = await bench.db!.connect();
    try {
      await client.query('BEGIN');
      await client.query('SET LOCAL synchronous_commit = off');
      await client.query(
        `INSERT INTO "Message" (id, "channelId", "authorId", content, "createdAt")
         SELECT ${id}, $1, $2,
                CASE WHEN i % 1000 = 50 THEN 'seeded message ' || i || ' for <@' || $3 || '>'
                     ELSE 'seeded message ' || i || ', lorem ipsum dolor sit amet' END,
                to_timestamp((${base}::bigint + i) / 1000.0)
           FROM generate_series(1, $4::int) AS i`,
        [s.channelDbId, s.author.dbId, readerDbId, count],
      );
      await client.query(
        `INSERT INTO "MessageMention" ("messageId", "userId")
         SELECT id, $2 FROM "Message" WHERE "channelId" = $1 AND content LIKE '%<@%'`,
        [s.channelDbId, readerDbId],
      );
      // "has read nothing": no read marker, and a member since before the whole history (a
      // member without a marker counts as unread what came after joining)
      await client.query(`UPDATE "Member" SET "joinedAt" = to_timestamp(${base - 3600_000}::bigint / 1000.0) WHERE "guildId" = $1 AND "userId" = $2`, [
        s.guildDbId,
        readerDbId,
      ]);
      await client.query(`DELETE FROM "ReadState" WHERE "channelId" = $1 AND "userId" = $2`, [s.channelDbId, readerDbId]);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  };
  console.error(`bench: history: seeding ${fmtInt(k.historyMessages)} + ${fmtInt(k.historySmall)} messages`);
  const t0 = wallNow();
  await seed(big, k.historyMessages);
  await seed(small, k.historySmall);
  if (k.historyOthers) await seed(other, k.historyOthers, 3600_000);
  await bench.db!.query('ANALYZE "Message"');
  await bench.db!.query('ANALYZE "MessageMention"');
  const seedMs = wallNow() - t0;

  // ---- the reads ------------------------------------------------------------------------------
  type Read = { name: string; query: string; vars: (s: Side) => Record<string, unknown>; value: (d: any) => unknown; token: string };
  const reads: Read[] = [
    { name: 'a 50-message page', query: READ_PAGE, vars: (s) => ({ channelId: s.channelId }), value: (d) => d.channel.messages.edges.length, token: reader.token },
    { name: 'the page with totalCount', query: READ_PAGE_TOTAL, vars: (s) => ({ channelId: s.channelId }), value: (d) => d.channel.messages.totalCount, token: reader.token },
    { name: 'channel.unreadCount', query: READ_UNREAD, vars: (s) => ({ channelId: s.channelId }), value: (d) => d.channel.unreadCount, token: reader.token },
    { name: 'channel.mentionCount', query: READ_MENTIONS, vars: (s) => ({ channelId: s.channelId }), value: (d) => d.channel.mentionCount, token: reader.token },
    {
      name: 'guild.viewerUnread { unreadChannelCount unreadMessageCount mentionCount }',
      query: READ_VIEWER_UNREAD,
      vars: (s) => ({ guildId: s.guildId }),
      value: (d) => JSON.stringify(d.guild.viewerUnread),
      token: reader.token,
    },
    { name: "the author's messageCount", query: READ_MESSAGE_COUNT, vars: (s) => ({ userId: s.author.userId }), value: (d) => d.user.messageCount, token: reader.token },
  ];
  const times = reads.map(() => ({ big: [] as number[], small: [] as number[], bigValue: undefined as unknown, smallValue: undefined as unknown }));
  const once = async (r: Read, s: Side) => {
    const t = wallNow();
    const data = await gql(url, r.token, r.query, r.vars(s));
    return { ms: wallNow() - t, value: r.value(data) };
  };
  for (let rep = -2; rep < k.historyRepeat; rep++) {
    for (const [i, r] of reads.entries()) {
      const order = rep % 2 ? ([big, small] as const) : ([small, big] as const);
      for (const s of order) {
        const { ms, value } = await once(r, s);
        if (rep < 0) continue; // warm-up
        if (s === big) {
          times[i]!.big.push(ms);
          times[i]!.bigValue = value;
        } else {
          times[i]!.small.push(ms);
          times[i]!.smallValue = value;
        }
      }
    }
  }
  bench.report.note(
    `history: seeded ${fmtInt(k.historyMessages)} + ${fmtInt(k.historySmall)} messages, and ${fmtInt(k.historyOthers)} newer ones in a third channel (with ${Math.floor((k.historyMessages + 950) / 1000)} and ${Math.floor((k.historySmall + 950) / 1000)} mentions of the reader) in ${fmtMs(seedMs)}`,
  );
  const bigN = fmtInt(k.historyMessages);
  for (const [i, r] of reads.entries()) {
    const t = times[i]!;
    const ratio = median(t.big) / median(t.small);
    bench.report.add({
      scenario: `Reads on a channel of ${bigN} messages vs one of ${fmtInt(k.historySmall)} (PostgreSQL, a member who has read nothing): ${r.name}`,
      yardstick: `${fmtInt(k.historySmall)} messages: ${fmtMs(median(t.small))} (→ ${String(t.smallValue)})`,
      api: `${bigN} messages: ${fmtMs(median(t.big))} (→ ${String(t.bigValue)})`,
      ratio: fmtRatio(ratio),
      target: '≤ 1.5×',
      met: ratio <= 1.5,
    });
  }
  const total = times[1]!.bigValue;
  if (typeof total === 'number' && total !== k.historyMessages && total < 1000)
    bench.report.note(`history: totalCount on the big channel is ${total}, not ${k.historyMessages}: a capped count, or a counter the SQL seed bypassed`);
}
