// The GraphQL documents the benchmark sends: the shapes a client sends (see examples/).
export const REGISTER = `mutation Register($input: RegisterInput!) {
  register(input: $input) { accessToken user { id } }
}`;
export const CREATE_GUILD = `mutation CreateGuild($input: CreateGuildInput!) {
  createGuild(input: $input) { id channels { id name } }
}`;
export const CREATE_CHANNEL = `mutation CreateChannel($input: CreateChannelInput!) { createChannel(input: $input) { id } }`;
export const CREATE_INVITE = `mutation CreateInvite($guildId: ID!) { createInvite(guildId: $guildId) { code } }`;
export const JOIN_GUILD = `mutation JoinGuild($code: String!) { joinGuild(inviteCode: $code) { id } }`;
export const SEND_MESSAGE = `mutation SendMessage($input: SendMessageInput!) {
  sendMessage(input: $input) { id content createdAt author { id username } }
}`;
export const ADD_REACTION = `mutation AddReaction($messageId: ID!, $emoji: String!) {
  addReaction(messageId: $messageId, emoji: $emoji) { id }
}`;

/** What every fan-out subscriber selects: the fields a chat client renders for a new message. */
export const MESSAGE_ADDED = `subscription MessageAdded($channelId: ID!) {
  messageAdded(channelId: $channelId) { id content createdAt author { id username displayName } }
}`;

/** The history page issue #8 counts round trips for. */
export const HISTORY_PAGE = `query History($channelId: ID!) {
  channel(id: $channelId) {
    id
    messages(first: 50) {
      edges {
        cursor
        node {
          id content createdAt editedAt
          author { id username displayName }
          attachments { id fileName contentType size url }
          reactions { emoji count viewerReacted }
          replyTo { id content author { id } }
        }
      }
      pageInfo { hasNextPage endCursor }
    }
  }
}`;

export const VIEWER = `query Viewer { viewer { id username displayName } }`;

// Reads that must not grow with history (scenario "history").
export const READ_PAGE = `query Page($channelId: ID!) {
  channel(id: $channelId) {
    messages(first: 50) { edges { node { id content createdAt author { id username } } } pageInfo { hasNextPage endCursor } }
  }
}`;
export const READ_PAGE_TOTAL = `query PageTotal($channelId: ID!) {
  channel(id: $channelId) {
    messages(first: 50) { edges { node { id content createdAt author { id username } } } pageInfo { hasNextPage endCursor } totalCount }
  }
}`;
export const READ_UNREAD = `query Unread($channelId: ID!) { channel(id: $channelId) { unreadCount } }`;
export const READ_MENTIONS = `query Mentions($channelId: ID!) { channel(id: $channelId) { mentionCount } }`;
export const READ_VIEWER_UNREAD = `query GuildUnread($guildId: ID!) {
  guild(id: $guildId) { viewerUnread { unreadChannelCount unreadMessageCount mentionCount } }
}`;
// Scenario "search": what a search box asks for one page of results.
export const SEARCH = `query Search($query: String!, $authorId: ID, $orderBy: MessageSearchOrder, $first: Int) {
  searchMessages(query: $query, authorId: $authorId, orderBy: $orderBy, first: $first) {
    edges { cursor rank matchedTerms highlights { start end } node { id content createdAt author { id username displayName } channel { id name } } }
    pageInfo { hasNextPage endCursor }
  }
}`;
export const READ_MESSAGE_COUNT = `query MessageCount($userId: ID!) { user(id: $userId) { messageCount } }`;
