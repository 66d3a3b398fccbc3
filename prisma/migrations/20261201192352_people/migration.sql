-- AlterTable
ALTER TABLE "User" ADD COLUMN     "avatarName" TEXT,
ADD COLUMN     "bio" TEXT,
ADD COLUMN     "customStatusEmoji" TEXT,
ADD COLUMN     "customStatusExpiresAt" TIMESTAMP(3),
ADD COLUMN     "customStatusText" TEXT,
ADD COLUMN     "discoverable" BOOLEAN NOT NULL DEFAULT true;

-- CreateTable
CREATE TABLE "InstanceSetting" (
    "key" TEXT NOT NULL,
    "value" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "InstanceSetting_pkey" PRIMARY KEY ("key")
);

-- CreateIndex
CREATE INDEX "User_avatarName_idx" ON "User"("avatarName");

-- AddForeignKey
ALTER TABLE "User" ADD CONSTRAINT "User_avatarName_fkey" FOREIGN KEY ("avatarName") REFERENCES "Attachment"("storedName") ON DELETE SET NULL ON UPDATE CASCADE;

-- Directory prefix search (src/services/userSearch.ts): LIKE 'prefix%' can use a btree only
-- with pattern ops whatever the database's collation, on the expressions the query compares.
CREATE INDEX "User_usernameKey_prefix_idx" ON "User" ("usernameKey" text_pattern_ops);
CREATE INDEX "User_displayName_prefix_idx" ON "User" (lower("displayName") text_pattern_ops);
