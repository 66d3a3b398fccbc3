-- AlterTable
ALTER TABLE "Message" ADD COLUMN     "nonce" TEXT;

-- CreateTable
CREATE TABLE "MessageNonce" (
    "authorId" TEXT NOT NULL,
    "nonce" TEXT NOT NULL,
    "messageId" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "MessageNonce_pkey" PRIMARY KEY ("authorId","nonce")
);

-- CreateIndex
CREATE INDEX "MessageNonce_createdAt_idx" ON "MessageNonce"("createdAt");

-- CreateIndex
CREATE INDEX "MessageNonce_messageId_idx" ON "MessageNonce"("messageId");

-- AddForeignKey
ALTER TABLE "MessageNonce" ADD CONSTRAINT "MessageNonce_messageId_fkey" FOREIGN KEY ("messageId") REFERENCES "Message"("id") ON DELETE CASCADE ON UPDATE CASCADE;
