-- A channel's history index becomes ascending: newest-first pages read it backwards at the
-- same cost, and the unread counts' row comparison ("channelId", id) > (channel, marker)
-- becomes one contiguous range of it, which the primary key cannot serve: the planner cannot
-- pick "Message_pkey" for them (it did for a parameterized channel, scanning every newer
-- message of every channel).

-- DropIndex
DROP INDEX "Message_channelId_id_idx";

-- CreateIndex
CREATE INDEX "Message_channelId_id_idx" ON "Message"("channelId", "id");
