-- CreateEnum
CREATE TYPE "OverwriteTargetType" AS ENUM ('ROLE', 'MEMBER');

-- CreateTable
CREATE TABLE "PermissionOverwrite" (
    "channelId" TEXT NOT NULL,
    "targetType" "OverwriteTargetType" NOT NULL,
    "targetId" TEXT NOT NULL,
    "allow" BIGINT NOT NULL DEFAULT 0,
    "deny" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "PermissionOverwrite_pkey" PRIMARY KEY ("channelId","targetType","targetId")
);

-- CreateIndex
CREATE INDEX "PermissionOverwrite_targetId_idx" ON "PermissionOverwrite"("targetId");

-- AddForeignKey
ALTER TABLE "PermissionOverwrite" ADD CONSTRAINT "PermissionOverwrite_channelId_fkey" FOREIGN KEY ("channelId") REFERENCES "Channel"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- VIEW_CHANNEL (1 << 10) is new: every existing @everyone role gets it, so that nothing that
-- was visible before becomes hidden.
UPDATE "Role" SET permissions = permissions | 1024 WHERE "isDefault";

-- A user's permissions in one channel, resolved as src/services/permissions.ts
-- computeChannelPermissions does (that function is the reference; this one answers set-wise
-- questions inside statements: which mentions to keep, which channels count as unread, which
-- channels a search may read). 0 for anyone who may not view the channel; every bit (-1) for
-- the owner and ADMINISTRATOR.
CREATE FUNCTION "chat_channel_permissions"(p_channel text, p_user text) RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
DECLARE
  v_guild text;
  v_owner text;
  v_member text;
  v_everyone text;
  v_bits bigint;
  v_allow bigint;
  v_deny bigint;
BEGIN
  SELECT c."guildId", g."ownerId" INTO v_guild, v_owner
  FROM "Channel" c JOIN "Guild" g ON g.id = c."guildId" WHERE c.id = p_channel;
  IF v_guild IS NULL THEN RETURN 0; END IF;
  SELECT m.id INTO v_member FROM "Member" m WHERE m."guildId" = v_guild AND m."userId" = p_user;
  IF v_member IS NULL THEN RETURN 0; END IF;
  IF v_owner = p_user THEN RETURN -1; END IF;
  SELECT r.id, r.permissions INTO v_everyone, v_bits FROM "Role" r WHERE r."guildId" = v_guild AND r."isDefault" LIMIT 1;
  v_bits := coalesce(v_bits, 0) | coalesce(
    (SELECT bit_or(r.permissions) FROM "MemberRole" mr JOIN "Role" r ON r.id = mr."roleId" WHERE mr."memberId" = v_member), 0);
  IF v_bits & 8 <> 0 THEN RETURN -1; END IF;
  SELECT o.allow, o.deny INTO v_allow, v_deny FROM "PermissionOverwrite" o
  WHERE o."channelId" = p_channel AND o."targetType" = 'ROLE' AND o."targetId" = v_everyone;
  v_bits := (v_bits & ~coalesce(v_deny, 0)) | coalesce(v_allow, 0);
  SELECT bit_or(o.allow), bit_or(o.deny) INTO v_allow, v_deny FROM "PermissionOverwrite" o
  JOIN "MemberRole" mr ON mr."roleId" = o."targetId" AND mr."memberId" = v_member
  WHERE o."channelId" = p_channel AND o."targetType" = 'ROLE';
  v_bits := (v_bits & ~coalesce(v_deny, 0)) | coalesce(v_allow, 0);
  v_allow := NULL;
  v_deny := NULL;
  SELECT o.allow, o.deny INTO v_allow, v_deny FROM "PermissionOverwrite" o
  WHERE o."channelId" = p_channel AND o."targetType" = 'MEMBER' AND o."targetId" = p_user;
  v_bits := (v_bits & ~coalesce(v_deny, 0)) | coalesce(v_allow, 0);
  RETURN CASE WHEN v_bits & 1024 <> 0 THEN v_bits ELSE 0 END;
END $$;

-- The channels whose messages the user may read: the one predicate for every question of the
-- kind "in the channels this user may see" (search, summaries): `"channelId" IN (SELECT
-- chat_readable_channels(user))`.
CREATE FUNCTION "chat_readable_channels"(p_user text) RETURNS SETOF text
LANGUAGE sql STABLE AS $$
  SELECT c.id FROM "Member" m JOIN "Channel" c ON c."guildId" = m."guildId"
  WHERE m."userId" = p_user AND "chat_channel_permissions"(c.id, p_user) & 1024 <> 0
$$;
