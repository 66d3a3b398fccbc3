-- Sending as one round trip: this function replaces chat_send_message (20261201180000) and
-- also finds the channel and judges the author's permissions in it as every other check does
-- (chat_channel_permissions: roles, the channel's overwrites, DM recipients), so a send costs
-- the service one call to the database instead of two. It keeps only mentions of people who
-- may view the channel, and hands DMs and group chats back to the service (refusal 'direct')
-- unless it has already checked that the other side takes them (blocks and the DM policy live
-- in the service). The caller passes the permission bits it needs (src/services/permissions.ts).
DROP FUNCTION "chat_send_message"(text, text, text, text, text, text, text[], text);

CREATE FUNCTION "chat_send"(
  p_id text, p_channel text, p_author text, p_content text,
  p_reply text, p_mentions text[], p_nonce text, p_needed bigint, p_direct_checked boolean
) RETURNS TABLE (
  out_refusal text,
  out_guild_id text, out_channel_name text, out_channel_type text, out_channel_topic text,
  out_channel_position integer, out_channel_created_at timestamp(3),
  out_created_at timestamp(3), out_reply_found boolean, out_author json, out_mentions json, out_reply_to json
)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_channel "Channel"%ROWTYPE;
  v_granted bigint;
BEGIN
  SELECT * INTO v_channel FROM "Channel" c WHERE c.id = p_channel;
  -- 0: no such channel, or one the author may not view (hidden, not a member, not a recipient)
  v_granted := CASE WHEN FOUND THEN "chat_channel_permissions"(p_channel, p_author) ELSE 0 END;
  IF v_granted = 0 THEN
    RETURN QUERY SELECT 'not-found'::text, NULL::text, NULL::text, NULL::text, NULL::text, NULL::integer, NULL::timestamp(3),
      NULL::timestamp(3), NULL::boolean, NULL::json, NULL::json, NULL::json;
    RETURN;
  END IF;
  IF v_channel."guildId" IS NULL AND NOT p_direct_checked THEN
    RETURN QUERY SELECT 'direct'::text, NULL::text, v_channel.name, v_channel.type::text, v_channel.topic, v_channel.position,
      v_channel."createdAt", NULL::timestamp(3), NULL::boolean, NULL::json, NULL::json, NULL::json;
    RETURN;
  END IF;
  -- -1: every permission (the owner, ADMINISTRATOR)
  IF v_granted <> -1 AND (v_granted & p_needed) <> p_needed THEN
    RETURN QUERY SELECT 'forbidden'::text, v_channel."guildId", v_channel.name, v_channel.type::text, v_channel.topic, v_channel.position,
      v_channel."createdAt", NULL::timestamp(3), NULL::boolean, NULL::json, NULL::json, NULL::json;
    RETURN;
  END IF;
  IF v_channel.type NOT IN ('TEXT', 'DM', 'GROUP_DM') THEN
    RETURN QUERY SELECT 'not-text'::text, v_channel."guildId", v_channel.name, v_channel.type::text, v_channel.topic, v_channel.position,
      v_channel."createdAt", NULL::timestamp(3), NULL::boolean, NULL::json, NULL::json, NULL::json;
    RETURN;
  END IF;

  RETURN QUERY
  WITH reply AS (
    SELECT r.id, r."channelId", r."authorId", r.content, r."createdAt", r."editedAt", r."replyToId",
           (SELECT json_build_object('id', u.id, 'username', u.username, 'displayName', u."displayName", 'createdAt', u."createdAt")
              FROM "User" u WHERE u.id = r."authorId") AS author,
           (SELECT coalesce(json_agg(json_build_object('id', a.id, 'fileName', a."fileName", 'storedName', a."storedName",
                                                       'contentType', a."contentType", 'size', a.size) ORDER BY a.id), '[]')
              FROM "Attachment" a WHERE a."messageId" = r.id) AS attachments
    FROM "Message" r WHERE r.id = p_reply AND r."channelId" = p_channel
  ), claimed AS (
    INSERT INTO "MessageNonce" ("authorId", nonce, "messageId")
    SELECT p_author, p_nonce, p_id
    WHERE p_nonce IS NOT NULL AND (p_reply IS NULL OR EXISTS (SELECT 1 FROM reply))
    ON CONFLICT DO NOTHING
    RETURNING 1
  ), inserted AS (
    INSERT INTO "Message" (id, "channelId", "authorId", content, "replyToId", nonce)
    SELECT p_id, p_channel, p_author, p_content, p_reply, p_nonce
    WHERE (p_reply IS NULL OR EXISTS (SELECT 1 FROM reply))
      AND (p_nonce IS NULL OR EXISTS (SELECT 1 FROM claimed))
    RETURNING id, "createdAt"
  ), mentioned AS (
    INSERT INTO "MessageMention" ("messageId", "userId", "channelId")
    SELECT i.id, candidate.id, p_channel
    FROM inserted i CROSS JOIN unnest(p_mentions) AS candidate(id)
    WHERE candidate.id <> p_author AND "chat_channel_permissions"(p_channel, candidate.id) & 1024 <> 0
    RETURNING "userId"
  ), marked AS (
    INSERT INTO "ReadState" ("userId", "channelId", "lastReadMessageId", "updatedAt")
    SELECT p_author, p_channel, i.id, now() FROM inserted i
    ON CONFLICT ("userId", "channelId") DO UPDATE
      SET "lastReadMessageId" = EXCLUDED."lastReadMessageId", "updatedAt" = EXCLUDED."updatedAt"
      WHERE "ReadState"."lastReadMessageId" < EXCLUDED."lastReadMessageId"
  )
  SELECT NULL::text, v_channel."guildId", v_channel.name, v_channel.type::text, v_channel.topic, v_channel.position,
         v_channel."createdAt",
         i."createdAt", EXISTS (SELECT 1 FROM reply),
         (SELECT json_build_object('id', u.id, 'username', u.username, 'displayName', u."displayName", 'createdAt', u."createdAt")
            FROM "User" u WHERE u.id = p_author),
         (SELECT coalesce(json_agg(json_build_object('id', u.id, 'username', u.username, 'displayName', u."displayName", 'createdAt', u."createdAt") ORDER BY u.id), '[]')
            FROM mentioned x JOIN "User" u ON u.id = x."userId"),
         (SELECT row_to_json(reply) FROM reply)
  FROM (SELECT 1) AS one LEFT JOIN inserted i ON TRUE;
END $$;
