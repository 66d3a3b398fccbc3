-- Sending as one round trip: the function that stores a message (20261201180000) now also
-- finds the channel and checks that the author is a member allowed to send there, in the same
-- statement, so a send costs the service one call to the database instead of two. The rule
-- of which bits add up to a permission stays in src/services/permissions.ts: the caller passes
-- the bits it needs and the ADMINISTRATOR bit, and gets the membership's facts back to build
-- the same Membership the rest of the request sees.
DROP FUNCTION "chat_send_message"(text, text, text, text, text, text, text[], text);

CREATE FUNCTION "chat_send"(
  p_id text, p_channel text, p_author text, p_content text,
  p_reply text, p_mentions text[], p_nonce text, p_needed bigint, p_administrator bigint
) RETURNS TABLE (
  out_refusal text,
  out_guild_id text, out_channel_name text, out_channel_type text, out_channel_topic text,
  out_channel_position integer, out_channel_created_at timestamp(3),
  out_member_id text, out_is_owner boolean, out_everyone text, out_roles json,
  out_created_at timestamp(3), out_reply_found boolean, out_author json, out_mentions json, out_reply_to json
)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_channel "Channel"%ROWTYPE;
  v_owner text;
  v_member text;
  v_everyone bigint;
  v_granted bigint;
  v_roles json;
BEGIN
  SELECT * INTO v_channel FROM "Channel" c WHERE c.id = p_channel;
  IF NOT FOUND THEN
    RETURN QUERY SELECT 'not-found'::text, NULL::text, NULL::text, NULL::text, NULL::text, NULL::integer, NULL::timestamp(3),
      NULL::text, NULL::boolean, NULL::text, NULL::json, NULL::timestamp(3), NULL::boolean, NULL::json, NULL::json, NULL::json;
    RETURN;
  END IF;
  SELECT g."ownerId", m.id INTO v_owner, v_member
    FROM "Guild" g LEFT JOIN "Member" m ON m."guildId" = g.id AND m."userId" = p_author
    WHERE g.id = v_channel."guildId";
  IF v_member IS NULL THEN
    RETURN QUERY SELECT 'not-found'::text, NULL::text, NULL::text, NULL::text, NULL::text, NULL::integer, NULL::timestamp(3),
      NULL::text, NULL::boolean, NULL::text, NULL::json, NULL::timestamp(3), NULL::boolean, NULL::json, NULL::json, NULL::json;
    RETURN;
  END IF;
  SELECT coalesce(r.permissions, 0) INTO v_everyone FROM "Role" r WHERE r."guildId" = v_channel."guildId" AND r."isDefault" LIMIT 1;
  SELECT coalesce(bit_or(r.permissions), 0),
         coalesce(json_agg(json_build_object('permissions', r.permissions::text, 'position', r.position)), '[]')
    INTO v_granted, v_roles
    FROM "MemberRole" mr JOIN "Role" r ON r.id = mr."roleId" WHERE mr."memberId" = v_member;
  v_granted := v_granted | coalesce(v_everyone, 0);

  IF v_owner <> p_author AND (v_granted & p_administrator) = 0 AND (v_granted & p_needed) <> p_needed THEN
    RETURN QUERY SELECT 'forbidden'::text, v_channel."guildId", v_channel.name, v_channel.type::text, v_channel.topic, v_channel.position,
      v_channel."createdAt", v_member, v_owner = p_author, coalesce(v_everyone, 0)::text, v_roles,
      NULL::timestamp(3), NULL::boolean, NULL::json, NULL::json, NULL::json;
    RETURN;
  END IF;
  IF v_channel.type <> 'TEXT' THEN
    RETURN QUERY SELECT 'not-text'::text, v_channel."guildId", v_channel.name, v_channel.type::text, v_channel.topic, v_channel.position,
      v_channel."createdAt", v_member, v_owner = p_author, coalesce(v_everyone, 0)::text, v_roles,
      NULL::timestamp(3), NULL::boolean, NULL::json, NULL::json, NULL::json;
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
    SELECT i.id, mem."userId", p_channel
    FROM inserted i JOIN "Member" mem
      ON mem."guildId" = v_channel."guildId" AND mem."userId" = ANY(p_mentions) AND mem."userId" <> p_author
    RETURNING "userId"
  ), marked AS (
    INSERT INTO "ReadState" ("userId", "channelId", "lastReadMessageId", "updatedAt")
    SELECT p_author, p_channel, i.id, now() FROM inserted i
    ON CONFLICT ("userId", "channelId") DO UPDATE
      SET "lastReadMessageId" = EXCLUDED."lastReadMessageId", "updatedAt" = EXCLUDED."updatedAt"
      WHERE "ReadState"."lastReadMessageId" < EXCLUDED."lastReadMessageId"
  )
  SELECT NULL::text, v_channel."guildId", v_channel.name, v_channel.type::text, v_channel.topic, v_channel.position,
         v_channel."createdAt", v_member, v_owner = p_author, coalesce(v_everyone, 0)::text, v_roles,
         i."createdAt", EXISTS (SELECT 1 FROM reply),
         (SELECT json_build_object('id', u.id, 'username', u.username, 'displayName', u."displayName", 'createdAt', u."createdAt")
            FROM "User" u WHERE u.id = p_author),
         (SELECT coalesce(json_agg(json_build_object('id', u.id, 'username', u.username, 'displayName', u."displayName", 'createdAt', u."createdAt") ORDER BY u.id), '[]')
            FROM mentioned x JOIN "User" u ON u.id = x."userId"),
         (SELECT row_to_json(reply) FROM reply)
  FROM (SELECT 1) AS one LEFT JOIN inserted i ON TRUE;
END $$;
