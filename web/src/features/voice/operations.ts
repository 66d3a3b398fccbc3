// Voice operations of the web client. The media side (engine.ts) is loaded on first join; these
// documents are small and shared with the participant list and the panel.
import { graphql } from '../../gql';

/** What the participant list shows of one person in a voice channel. */
export const VoiceParticipantFragment = graphql(`
  fragment VoiceParticipant_state on VoiceState {
    user {
      id
      displayName
    }
    channel {
      id
    }
    selfMute
    selfDeaf
    serverMute
    serverDeaf
    speaking
    joinedAt
  }
`);

/** Joins, leaves, moves, mute/deafen and speaking in one guild; the cache applies them (lib/cache.ts). */
export const VoiceStatesEvents = graphql(`
  subscription VoiceStatesEvents($guildId: ID!) {
    voiceStates(guildId: $guildId) {
      guildId
      kind
      previousChannelId
      state {
        ...VoiceParticipant_state
      }
    }
  }
`);

export const JoinVoice = graphql(`
  mutation JoinVoice($channelId: ID!) {
    joinVoiceChannel(channelId: $channelId) {
      sessionId
      voiceToken
      channelId
      iceServers {
        urls
        username
        credential
      }
    }
  }
`);

export const LeaveVoice = graphql(`
  mutation LeaveVoice {
    leaveVoiceChannel
  }
`);

export const SetVoiceState = graphql(`
  mutation SetVoiceState($selfMute: Boolean, $selfDeaf: Boolean) {
    setVoiceState(selfMute: $selfMute, selfDeaf: $selfDeaf) {
      ...VoiceParticipant_state
    }
  }
`);

export const SetMemberVoiceState = graphql(`
  mutation SetMemberVoiceState($guildId: ID!, $userId: ID!, $mute: Boolean, $deaf: Boolean) {
    setMemberVoiceState(guildId: $guildId, userId: $userId, mute: $mute, deaf: $deaf) {
      ...VoiceParticipant_state
    }
  }
`);

export const DisconnectVoiceMember = graphql(`
  mutation DisconnectVoiceMember($guildId: ID!, $userId: ID!) {
    disconnectVoiceMember(guildId: $guildId, userId: $userId)
  }
`);

export const MoveVoiceMember = graphql(`
  mutation MoveVoiceMember($guildId: ID!, $userId: ID!, $channelId: ID!) {
    moveVoiceMember(guildId: $guildId, userId: $userId, channelId: $channelId) {
      ...VoiceParticipant_state
    }
  }
`);

/** Where a moderator moved the viewer (after VoiceClosed MOVED). */
export const ViewerVoiceChannel = graphql(`
  query ViewerVoiceChannel {
    viewer {
      id
      voiceChannel {
        id
        name
        guild {
          id
          name
        }
      }
    }
  }
`);

export const VoiceSignals = graphql(`
  subscription VoiceSignals($sessionId: ID!, $voiceToken: String!) {
    voiceSignals(sessionId: $sessionId, voiceToken: $voiceToken) {
      __typename
      ... on VoiceOffer {
        sdp
      }
      ... on VoiceClosed {
        reason
      }
    }
  }
`);

export const AnswerVoiceOffer = graphql(`
  mutation AnswerVoiceOffer($sessionId: ID!, $voiceToken: String!, $sdp: String!) {
    answerVoiceOffer(sessionId: $sessionId, voiceToken: $voiceToken, sdp: $sdp)
  }
`);

export const AddVoiceCandidate = graphql(`
  mutation AddVoiceCandidate($sessionId: ID!, $voiceToken: String!, $candidate: String) {
    addVoiceCandidate(sessionId: $sessionId, voiceToken: $voiceToken, candidate: $candidate)
  }
`);
