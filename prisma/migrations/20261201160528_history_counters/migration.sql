-- DropIndex
DROP INDEX "MessageMention_userId_idx";

-- AlterTable
ALTER TABLE "MessageMention" ADD COLUMN     "channelId" TEXT;

-- AlterTable
ALTER TABLE "User" ADD COLUMN     "messageCount" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "ownedGuildCount" INTEGER NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "ChannelMessageCount" (
    "channelId" TEXT NOT NULL,
    "shard" INTEGER NOT NULL,
    "messages" INTEGER NOT NULL,

    CONSTRAINT "ChannelMessageCount_pkey" PRIMARY KEY ("channelId","shard")
);

-- CreateIndex
CREATE INDEX "MessageMention_userId_channelId_messageId_idx" ON "MessageMention"("userId", "channelId", "messageId");

-- AddForeignKey
ALTER TABLE "ChannelMessageCount" ADD CONSTRAINT "ChannelMessageCount_channelId_fkey" FOREIGN KEY ("channelId") REFERENCES "Channel"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Counts a client reads on every screen must not grow with history (issue 8, item 8).
-- Exact counters are kept here, by triggers, in the transaction of the write they count,
-- whatever code path writes (Prisma or raw SQL). Statement-level triggers with transition
-- tables do one UPDATE per statement, so a bulk insert or a cascade delete of a million
-- messages costs one counter update, not a million.
--
-- "User"."messageCount": one row per author. Only one user's own concurrent sends queue on it.
-- "ChannelMessageCount": a channel's count split over 16 rows picked by the writing
-- connection's backend pid. Measured with pgbench, 16 concurrent single-row INSERTs into one
-- channel: one counter row per channel cut throughput to 0.1-0.5x of no trigger (every
-- sender queues on that row's lock until commit); the sharded rows stay within noise of no
-- trigger. Reading the count sums at most 16 rows.

CREATE FUNCTION "message_counters_after_insert"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE "User" u SET "messageCount" = u."messageCount" + n.k
    FROM (SELECT "authorId", count(*)::int AS k FROM new_messages GROUP BY "authorId") n
    WHERE u.id = n."authorId";
  INSERT INTO "ChannelMessageCount" AS c ("channelId", "shard", "messages")
    SELECT "channelId", pg_backend_pid() % 16, count(*)::int FROM new_messages GROUP BY "channelId"
    ON CONFLICT ("channelId", "shard") DO UPDATE SET "messages" = c."messages" + EXCLUDED."messages";
  RETURN NULL;
END $$;

CREATE FUNCTION "message_counters_after_delete"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- an author deleted in this transaction has no row left to update
  UPDATE "User" u SET "messageCount" = u."messageCount" - o.k
    FROM (SELECT "authorId", count(*)::int AS k FROM old_messages GROUP BY "authorId") o
    WHERE u.id = o."authorId";
  -- a channel deleted in this transaction (directly or with its guild) takes its counter rows
  -- with it: it is no longer visible here, so nothing is written for it
  INSERT INTO "ChannelMessageCount" AS c ("channelId", "shard", "messages")
    SELECT o."channelId", pg_backend_pid() % 16, -count(*)::int FROM old_messages o
    WHERE EXISTS (SELECT 1 FROM "Channel" ch WHERE ch.id = o."channelId")
    GROUP BY o."channelId"
    ON CONFLICT ("channelId", "shard") DO UPDATE SET "messages" = c."messages" + EXCLUDED."messages";
  RETURN NULL;
END $$;

CREATE TRIGGER "Message_counters_insert" AFTER INSERT ON "Message"
  REFERENCING NEW TABLE AS new_messages FOR EACH STATEMENT EXECUTE FUNCTION "message_counters_after_insert"();
CREATE TRIGGER "Message_counters_delete" AFTER DELETE ON "Message"
  REFERENCING OLD TABLE AS old_messages FOR EACH STATEMENT EXECUTE FUNCTION "message_counters_after_delete"();

-- "User"."ownedGuildCount": creation, deletion and transfer of guilds.
CREATE FUNCTION "guild_owner_counters"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    UPDATE "User" SET "ownedGuildCount" = "ownedGuildCount" - 1 WHERE id = OLD."ownerId";
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    UPDATE "User" SET "ownedGuildCount" = "ownedGuildCount" + 1 WHERE id = NEW."ownerId";
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER "Guild_owner_counters" AFTER INSERT OR DELETE ON "Guild"
  FOR EACH ROW EXECUTE FUNCTION "guild_owner_counters"();
CREATE TRIGGER "Guild_owner_counters_transfer" AFTER UPDATE OF "ownerId" ON "Guild"
  FOR EACH ROW WHEN (OLD."ownerId" IS DISTINCT FROM NEW."ownerId") EXECUTE FUNCTION "guild_owner_counters"();

-- "MessageMention"."channelId": copied from the message when the writer leaves it out. At
-- the end of the statement, so that it works whatever order a multi-statement CTE inserts in.
CREATE FUNCTION "message_mention_fill_channel"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE "MessageMention" mm SET "channelId" = m."channelId"
    FROM new_mentions n JOIN "Message" m ON m.id = n."messageId"
    WHERE n."channelId" IS NULL AND mm."messageId" = n."messageId" AND mm."userId" = n."userId";
  RETURN NULL;
END $$;

CREATE TRIGGER "MessageMention_fill_channel" AFTER INSERT ON "MessageMention"
  REFERENCING NEW TABLE AS new_mentions FOR EACH STATEMENT EXECUTE FUNCTION "message_mention_fill_channel"();

-- The greatest ULID of the millisecond of ts (10 characters of Crockford base32 time, then
-- the greatest randomness): `id > ulid_ceiling(t)` is "created after t" as an index range
-- on a message id (src/services/ids.ts). Used for members without a read marker yet.
CREATE FUNCTION "ulid_ceiling"(ts timestamp) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT string_agg(
           substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ',
                  ((floor(extract(epoch FROM ts) * 1000)::bigint >> (45 - 5 * i)) & 31)::int + 1, 1),
           '' ORDER BY i) || 'ZZZZZZZZZZZZZZZZ'
  FROM generate_series(0, 9) AS i
$$;

-- Existing data.
UPDATE "User" u SET "messageCount" = (SELECT count(*) FROM "Message" m WHERE m."authorId" = u.id),
                    "ownedGuildCount" = (SELECT count(*) FROM "Guild" g WHERE g."ownerId" = u.id);
INSERT INTO "ChannelMessageCount" ("channelId", "shard", "messages")
  SELECT "channelId", 0, count(*)::int FROM "Message" GROUP BY "channelId";
UPDATE "MessageMention" mm SET "channelId" = m."channelId" FROM "Message" m WHERE m.id = mm."messageId";
