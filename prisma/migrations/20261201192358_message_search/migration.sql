-- Full-text search over messages (searchMessages, src/services/search.ts).
--
-- The words of a message live in a generated column, so that every way a message is written
-- (the send function, Prisma's create and update of an edit, a bulk INSERT) indexes it in the
-- same statement, and a deleted message leaves nothing behind. The text search configuration
-- is 'simple' on purpose: a chat holds every language at once, and a language's stemmer
-- (english: "running" -> "run") mangles the words of every other one and drops its stop
-- words ("the", "it", "who" become unsearchable). 'simple' lower-cases and keeps every word,
-- in any script; the price is no stemming ("run" does not find "running").
ALTER TABLE "Message" ADD COLUMN "search" tsvector GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, "content")) STORED;

-- CreateIndex
CREATE INDEX "Message_search_idx" ON "Message" USING GIN ("search");
