import type { Message as PrismaMessage } from '../generated/prisma/client.js';
import type { MessageSnapshot } from '../pubsub/topics.js';
import { SEARCH_CANDIDATES, SEARCH_COUNT_CAP, type MessageSearchHit } from '../services/search.js';
import { builder } from './builder.js';
import { asEventParent } from './events.js';
import { Message } from './message.js';

export const MessageContentKind = builder.enumType('MessageContentKind', {
  description: 'Something a message contains besides words (searchMessages `has`).',
  values: {
    ATTACHMENT: { description: 'at least one attached file' },
    LINK: { description: 'a URL with its scheme (http:// or https://) in the content' },
  } as const,
});

export const MessageSearchOrder = builder.enumType('MessageSearchOrder', {
  values: {
    RELEVANCE: {
      description: `Best match first (ts_rank, shorter messages first among equal matches), newest first among equal ranks; ranks the newest ${SEARCH_CANDIDATES} matches.`,
    },
    NEWEST: { description: 'Newest first; every match is reachable.' },
  } as const,
});

export const TextRange = builder.objectRef<{ start: number; end: number }>('TextRange').implement({
  description: 'A span of a text in UTF-16 code units (JavaScript string indices), end exclusive.',
  fields: (t) => ({
    start: t.exposeInt('start'),
    end: t.exposeInt('end'),
  }),
});

export const MessageSearchEdge = builder.objectRef<MessageSearchHit>('MessageSearchEdge').implement({
  fields: (t) => ({
    cursor: t.exposeString('cursor'),
    // answered from the snapshot the search statement built, as history pages are
    node: t.field({ type: Message, resolve: (hit) => asEventParent<MessageSnapshot, PrismaMessage>(hit.message) }),
    rank: t.exposeFloat('rank', { description: "How well the message matches (ts_rank); comparable within one search's results only." }),
    highlights: t.field({
      type: [TextRange],
      description: 'Where the matched words are in node.content, in order: wrap them in <mark> to show the match.',
      resolve: (hit) => hit.highlights,
    }),
    matchedTerms: t.stringList({
      description: 'The words of the message that matched, lower-cased, in order of first appearance.',
      resolve: (hit) => hit.matchedTerms,
    }),
  }),
});

export const MessageSearchConnection = builder
  .objectRef<{ hits: MessageSearchHit[]; hasNextPage: boolean; hasPreviousPage: boolean; totalCount: () => Promise<number> }>(
    'MessageSearchConnection',
  )
  .implement({
    fields: (t) => ({
      edges: t.field({ type: [MessageSearchEdge], resolve: (page) => page.hits }),
      pageInfo: t.field({
        type: builder.pageInfoRef(),
        resolve: (page) => ({
          hasNextPage: page.hasNextPage,
          hasPreviousPage: page.hasPreviousPage,
          startCursor: page.hits[0]?.cursor ?? null,
          endCursor: page.hits[page.hits.length - 1]?.cursor ?? null,
        }),
      }),
      totalCount: t.int({
        description: `Matches, counted up to ${SEARCH_COUNT_CAP}: ${SEARCH_COUNT_CAP} means ${SEARCH_COUNT_CAP} or more (show "${SEARCH_COUNT_CAP}+").`,
        resolve: (page) => page.totalCount(),
      }),
    }),
  });
