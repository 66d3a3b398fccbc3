-- CreateEnum
CREATE TYPE "DirectMessagePolicy" AS ENUM ('EVERYONE', 'SHARED_GUILDS', 'NOBODY');

-- AlterEnum
-- This migration adds more than one value to an enum.
-- With PostgreSQL versions 11 and earlier, this is not possible
-- in a single migration. This can be worked around by creating
-- multiple migrations, each migration adding only one value to
-- the enum.


ALTER TYPE "ChannelType" ADD VALUE 'DM';
ALTER TYPE "ChannelType" ADD VALUE 'GROUP_DM';

-- AlterTable
ALTER TABLE "Channel" ADD COLUMN     "dmKey" TEXT,
ADD COLUMN     "ownerId" TEXT,
ALTER COLUMN "guildId" DROP NOT NULL;

-- AlterTable
ALTER TABLE "User" ADD COLUMN     "directMessagePolicy" "DirectMessagePolicy" NOT NULL DEFAULT 'EVERYONE';

-- CreateTable
CREATE TABLE "ChannelRecipient" (
    "channelId" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "joinedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ChannelRecipient_pkey" PRIMARY KEY ("channelId","userId")
);

-- CreateTable
CREATE TABLE "UserBlock" (
    "blockerId" TEXT NOT NULL,
    "blockedId" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "UserBlock_pkey" PRIMARY KEY ("blockerId","blockedId")
);

-- CreateIndex
CREATE INDEX "ChannelRecipient_userId_idx" ON "ChannelRecipient"("userId");

-- CreateIndex
CREATE INDEX "UserBlock_blockedId_idx" ON "UserBlock"("blockedId");

-- CreateIndex
CREATE UNIQUE INDEX "Channel_dmKey_key" ON "Channel"("dmKey");

-- AddForeignKey
ALTER TABLE "Channel" ADD CONSTRAINT "Channel_ownerId_fkey" FOREIGN KEY ("ownerId") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ChannelRecipient" ADD CONSTRAINT "ChannelRecipient_channelId_fkey" FOREIGN KEY ("channelId") REFERENCES "Channel"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ChannelRecipient" ADD CONSTRAINT "ChannelRecipient_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "UserBlock" ADD CONSTRAINT "UserBlock_blockerId_fkey" FOREIGN KEY ("blockerId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "UserBlock" ADD CONSTRAINT "UserBlock_blockedId_fkey" FOREIGN KEY ("blockedId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- DMs and group chats: their recipients may view, send, react and attach, nobody else anything
-- (35904 = VIEW_CHANNEL | SEND_MESSAGES | ADD_REACTIONS | ATTACH_FILES, DIRECT_CHANNEL_PERMISSIONS
-- of src/services/permissions.ts). Guild channels resolve as before.
CREATE OR REPLACE FUNCTION "chat_channel_permissions"(p_channel text, p_user text) RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
DECLARE
  v_found boolean;
  v_guild text;
  v_owner text;
  v_member text;
  v_everyone text;
  v_bits bigint;
  v_allow bigint;
  v_deny bigint;
BEGIN
  SELECT TRUE, c."guildId", g."ownerId" INTO v_found, v_guild, v_owner
  FROM "Channel" c LEFT JOIN "Guild" g ON g.id = c."guildId" WHERE c.id = p_channel;
  IF v_found IS NULL THEN RETURN 0; END IF;
  IF v_guild IS NULL THEN
    RETURN CASE WHEN EXISTS (SELECT 1 FROM "ChannelRecipient" r WHERE r."channelId" = p_channel AND r."userId" = p_user)
                THEN 35904 ELSE 0 END;
  END IF;
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

-- The channels whose messages the user may read: guild channels they may view, and the DMs
-- and group chats they are in.
CREATE OR REPLACE FUNCTION "chat_readable_channels"(p_user text) RETURNS SETOF text
LANGUAGE sql STABLE AS $$
  SELECT c.id FROM "Member" m JOIN "Channel" c ON c."guildId" = m."guildId"
  WHERE m."userId" = p_user AND "chat_channel_permissions"(c.id, p_user) & 1024 <> 0
  UNION ALL
  SELECT r."channelId" FROM "ChannelRecipient" r WHERE r."userId" = p_user
$$;
