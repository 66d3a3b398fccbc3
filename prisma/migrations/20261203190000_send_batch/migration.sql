-- Sending in sets: "chat_send_batch" stores the sends that arrive together (the group commit
-- of src/services/messageSql.ts) with one INSERT per table instead of one per send. It
-- replaces "chat_send" (20261201211500), which a batch called once per send through a
-- LATERAL join: every send then paid for its own executor start-ups and its own firing of the
-- statement-level triggers on "Message" and "MessageMention" (the history counters), which
-- were most of a batch's time in PostgreSQL. The checks are the same, send by send: the
-- channel, the author's permissions there ("chat_channel_permissions", once per distinct
-- channel and author), DMs and group chats handed back to the service unless it has checked
-- the other side, the reply target, the nonce. Sends are taken in the order given: of two
-- sends claiming one nonce, the first is stored. A reply can only name a message stored
-- before this batch (message ids are made by the service as it sends).
DROP FUNCTION "chat_send"(text, text, text, text, text, text[], text, bigint, boolean);

CREATE FUNCTION "chat_send_batch"(
  p_ids text[], p_channels text[], p_authors text[], p_contents text[], p_replies text[],
  -- per send, a JSON array of candidate user ids
  p_mentions text[], p_nonces text[], p_needed bigint[], p_direct_checked boolean[]
) RETURNS TABLE (
  out_ord integer, out_refusal text,
  out_guild_id text, out_channel_name text, out_channel_type text, out_channel_topic text,
  out_channel_position integer, out_channel_created_at timestamp(3),
  out_created_at timestamp(3), out_reply_found boolean, out_author json, out_mentions json, out_reply_to json
)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  WITH input AS (
    SELECT b.id, b.channel_id, b.author_id, b.content, b.reply_id, b.mention_ids, b.nonce, b.needed, b.direct_checked, b.ord::int AS ord
    FROM unnest(p_ids, p_channels, p_authors, p_contents, p_replies, p_mentions, p_nonces, p_needed, p_direct_checked)
      WITH ORDINALITY AS b(id, channel_id, author_id, content, reply_id, mention_ids, nonce, needed, direct_checked, ord)
  ), granted AS (
    -- 0: no such channel, or one the author may not view; -1: every permission
    SELECT p.channel_id, p.author_id, "chat_channel_permissions"(p.channel_id, p.author_id) AS bits
    FROM (SELECT DISTINCT i.channel_id, i.author_id FROM input i) p
  ), judged AS (
    SELECT i.*, c."guildId" AS guild_id, c.name, c.type::text AS type, c.topic, c.position, c."createdAt" AS channel_created_at,
           CASE WHEN c.id IS NULL OR g.bits = 0 THEN 'not-found'
                WHEN c."guildId" IS NULL AND NOT i.direct_checked THEN 'direct'
                WHEN g.bits <> -1 AND (g.bits & i.needed) <> i.needed THEN 'forbidden'
                WHEN c.type NOT IN ('TEXT', 'DM', 'GROUP_DM') THEN 'not-text'
           END AS refusal
    FROM input i
    JOIN granted g ON g.channel_id = i.channel_id AND g.author_id = i.author_id
    LEFT JOIN "Channel" c ON c.id = i.channel_id
  ), reply AS (
    SELECT j.ord,
           json_build_object('id', r.id, 'channelId', r."channelId", 'authorId', r."authorId", 'content', r.content,
             'createdAt', r."createdAt", 'editedAt', r."editedAt", 'replyToId', r."replyToId",
             'author', (SELECT json_build_object('id', u.id, 'username', u.username, 'displayName', u."displayName", 'createdAt', u."createdAt")
                          FROM "User" u WHERE u.id = r."authorId"),
             'attachments', (SELECT coalesce(json_agg(json_build_object('id', a.id, 'fileName', a."fileName", 'storedName', a."storedName",
                                                                      'contentType', a."contentType", 'size', a.size) ORDER BY a.id), '[]')
                               FROM "Attachment" a WHERE a."messageId" = r.id)) AS doc
    FROM judged j JOIN "Message" r ON r.id = j.reply_id AND r."channelId" = j.channel_id
    WHERE j.refusal IS NULL
  ), ready AS (
    SELECT j.* FROM judged j
    WHERE j.refusal IS NULL AND (j.reply_id IS NULL OR EXISTS (SELECT 1 FROM reply r WHERE r.ord = j.ord))
  ), claimed AS (
    INSERT INTO "MessageNonce" ("authorId", nonce, "messageId")
    SELECT r.author_id, r.nonce, r.id FROM ready r WHERE r.nonce IS NOT NULL ORDER BY r.ord
    ON CONFLICT DO NOTHING
    RETURNING "messageId"
  ), inserted AS (
    INSERT INTO "Message" (id, "channelId", "authorId", content, "replyToId", nonce)
    SELECT r.id, r.channel_id, r.author_id, r.content, r.reply_id, r.nonce FROM ready r
    WHERE r.nonce IS NULL OR r.id IN (SELECT c."messageId" FROM claimed c)
    ORDER BY r.ord
    RETURNING id, "createdAt"
  ), mentioned AS (
    INSERT INTO "MessageMention" ("messageId", "userId", "channelId")
    SELECT r.id, candidate.id, r.channel_id
    FROM inserted i JOIN ready r ON r.id = i.id CROSS JOIN json_array_elements_text(r.mention_ids::json) AS candidate(id)
    WHERE candidate.id <> r.author_id AND "chat_channel_permissions"(r.channel_id, candidate.id) & 1024 <> 0
    RETURNING "messageId", "userId"
  ), marked AS (
    -- one row per author and channel: an upsert may not touch a row twice
    INSERT INTO "ReadState" ("userId", "channelId", "lastReadMessageId", "updatedAt")
    SELECT r.author_id, r.channel_id, max(i.id), now() FROM inserted i JOIN ready r ON r.id = i.id
    GROUP BY r.author_id, r.channel_id
    ON CONFLICT ("userId", "channelId") DO UPDATE
      SET "lastReadMessageId" = EXCLUDED."lastReadMessageId", "updatedAt" = EXCLUDED."updatedAt"
      WHERE "ReadState"."lastReadMessageId" < EXCLUDED."lastReadMessageId"
  )
  SELECT j.ord, j.refusal, j.guild_id, j.name, j.type, j.topic, j.position, j.channel_created_at,
         i."createdAt", r.doc IS NOT NULL,
         (SELECT json_build_object('id', u.id, 'username', u.username, 'displayName', u."displayName", 'createdAt', u."createdAt")
            FROM "User" u WHERE u.id = j.author_id),
         (SELECT coalesce(json_agg(json_build_object('id', u.id, 'username', u.username, 'displayName', u."displayName", 'createdAt', u."createdAt") ORDER BY u.id), '[]')
            FROM mentioned x JOIN "User" u ON u.id = x."userId" WHERE x."messageId" = j.id),
         r.doc
  FROM judged j LEFT JOIN inserted i ON i.id = j.id LEFT JOIN reply r ON r.ord = j.ord
  ORDER BY j.ord;
END $$;
