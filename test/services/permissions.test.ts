// Who may do what in a guild: computePermissions over the facts of a membership.
import { describe, expect, it } from 'vitest';
import {
  ALL_PERMISSIONS,
  DEFAULT_EVERYONE_PERMISSIONS,
  PERMISSION_NAMES,
  Permission,
  type PermissionName,
  computeChannelPermissions,
  computePermissions,
  fromNames,
  has,
  toNames,
} from '../../src/services/permissions.js';

const may = (granted: bigint, name: PermissionName) => has(granted, Permission[name]);
const plainMember = (roles: PermissionName[][] = []) =>
  computePermissions({ isOwner: false, everyone: DEFAULT_EVERYONE_PERMISSIONS, roles: roles.map(fromNames) });

describe('a new guild', () => {
  it('@everyone grants exactly what the contract lists', () => {
    expect(toNames(DEFAULT_EVERYONE_PERMISSIONS).sort()).toEqual(
      ['CREATE_INVITE', 'VIEW_CHANNEL', 'SEND_MESSAGES', 'ADD_REACTIONS', 'ATTACH_FILES', 'CONNECT', 'SPEAK'].sort(),
    );
  });

  it('a plain member may invite, talk and react, but not moderate or manage', () => {
    const granted = plainMember();
    for (const name of ['CREATE_INVITE', 'SEND_MESSAGES', 'ADD_REACTIONS', 'ATTACH_FILES'] as const) {
      expect(may(granted, name), name).toBe(true);
    }
    for (const name of ['MANAGE_MESSAGES', 'MANAGE_CHANNELS', 'MANAGE_GUILD', 'MANAGE_ROLES', 'KICK_MEMBERS', 'BAN_MEMBERS', 'ADMINISTRATOR'] as const) {
      expect(may(granted, name), name).toBe(false);
    }
  });
});

describe('the owner', () => {
  it('has every permission, whatever the roles say', () => {
    expect(computePermissions({ isOwner: true, everyone: 0n, roles: [] })).toBe(ALL_PERMISSIONS);
    expect(toNames(computePermissions({ isOwner: true, everyone: DEFAULT_EVERYONE_PERMISSIONS, roles: [] }))).toEqual(PERMISSION_NAMES);
  });

  it("so may delete others' messages and manage channels", () => {
    const owner = computePermissions({ isOwner: true, everyone: DEFAULT_EVERYONE_PERMISSIONS, roles: [] });
    expect(may(owner, 'MANAGE_MESSAGES')).toBe(true);
    expect(may(owner, 'MANAGE_CHANNELS')).toBe(true);
  });
});

describe('roles', () => {
  it('add their permissions to @everyone', () => {
    const moderator = plainMember([['MANAGE_MESSAGES'], ['KICK_MEMBERS']]);
    expect(may(moderator, 'MANAGE_MESSAGES')).toBe(true);
    expect(may(moderator, 'KICK_MEMBERS')).toBe(true);
    expect(may(moderator, 'SEND_MESSAGES')).toBe(true);
    expect(may(moderator, 'BAN_MEMBERS')).toBe(false);
  });

  it('ADMINISTRATOR grants everything', () => {
    expect(plainMember([['ADMINISTRATOR']])).toBe(ALL_PERMISSIONS);
  });

  it('an @everyone stripped of SEND_MESSAGES silences members without a role granting it', () => {
    const everyone = DEFAULT_EVERYONE_PERMISSIONS & ~Permission.SEND_MESSAGES;
    expect(may(computePermissions({ isOwner: false, everyone, roles: [] }), 'SEND_MESSAGES')).toBe(false);
    expect(may(computePermissions({ isOwner: false, everyone, roles: [fromNames(['SEND_MESSAGES'])] }), 'SEND_MESSAGES')).toBe(true);
  });

  it('bits that name no permission are dropped', () => {
    const unknownBit = 1n << 40n;
    expect(computePermissions({ isOwner: false, everyone: DEFAULT_EVERYONE_PERMISSIONS | unknownBit, roles: [] })).toBe(
      DEFAULT_EVERYONE_PERMISSIONS,
    );
  });
});

describe('has, toNames and fromNames', () => {
  it('has needs every bit asked for', () => {
    const granted = fromNames(['SEND_MESSAGES']);
    expect(has(granted, Permission.SEND_MESSAGES)).toBe(true);
    expect(has(granted, Permission.SEND_MESSAGES | Permission.MANAGE_MESSAGES)).toBe(false);
  });

  it('names and bits convert both ways', () => {
    const names: PermissionName[] = ['KICK_MEMBERS', 'SPEAK', 'MANAGE_ROLES'];
    expect(toNames(fromNames(names)).sort()).toEqual([...names].sort());
    expect(toNames(0n)).toEqual([]);
    expect(fromNames([])).toBe(0n);
  });

  it("uses Discord's bit values, so tooling reads them the same way", () => {
    expect(Object.fromEntries(PERMISSION_NAMES.map((n) => [n, Permission[n]]))).toEqual({
      CREATE_INVITE: 1n,
      KICK_MEMBERS: 2n,
      BAN_MEMBERS: 4n,
      ADMINISTRATOR: 8n,
      MANAGE_CHANNELS: 16n,
      MANAGE_GUILD: 32n,
      ADD_REACTIONS: 64n,
      VIEW_CHANNEL: 1024n,
      SEND_MESSAGES: 2048n,
      MANAGE_MESSAGES: 8192n,
      ATTACH_FILES: 32768n,
      MENTION_EVERYONE: 131072n,
      CONNECT: 1048576n,
      SPEAK: 2097152n,
      MUTE_MEMBERS: 4194304n,
      DEAFEN_MEMBERS: 8388608n,
      MOVE_MEMBERS: 16777216n,
      MANAGE_ROLES: 268435456n,
    });
  });
});

describe('computeChannelPermissions (Discord resolution order)', () => {
  const none = { everyone: null, roles: [], member: null };
  const bits = (allow: PermissionName[] = [], deny: PermissionName[] = []) => ({ allow: fromNames(allow), deny: fromNames(deny) });
  const member = plainMember();

  it('without overwrites a member has their guild permissions', () => {
    expect(computeChannelPermissions(member, none)).toBe(member);
  });

  it('@everyone denied VIEW_CHANNEL hides the channel: nothing else counts', () => {
    expect(computeChannelPermissions(member, { ...none, everyone: bits([], ['VIEW_CHANNEL']) })).toBe(0n);
  });

  it("a role's allow beats @everyone's deny", () => {
    const granted = computeChannelPermissions(member, { ...none, everyone: bits([], ['VIEW_CHANNEL']), roles: [bits(['VIEW_CHANNEL'])] });
    expect(may(granted, 'VIEW_CHANNEL')).toBe(true);
    expect(may(granted, 'SEND_MESSAGES')).toBe(true);
  });

  it('role overwrites combine: every deny first, then every allow (an allow of one role wins over a deny of another)', () => {
    const granted = computeChannelPermissions(member, { ...none, roles: [bits([], ['SEND_MESSAGES']), bits(['SEND_MESSAGES'])] });
    expect(may(granted, 'SEND_MESSAGES')).toBe(true);
    const denied = computeChannelPermissions(member, { ...none, roles: [bits([], ['SEND_MESSAGES']), bits(['MANAGE_MESSAGES'])] });
    expect(may(denied, 'SEND_MESSAGES')).toBe(false);
    expect(may(denied, 'MANAGE_MESSAGES')).toBe(true);
  });

  it("the member's own overwrite comes last and beats the roles'", () => {
    const overwrites = { everyone: bits([], ['VIEW_CHANNEL']), roles: [bits(['VIEW_CHANNEL'])], member: bits([], ['VIEW_CHANNEL']) };
    expect(computeChannelPermissions(member, overwrites)).toBe(0n);
    const readOnly = computeChannelPermissions(member, { ...none, roles: [bits(['SEND_MESSAGES'])], member: bits([], ['SEND_MESSAGES']) });
    expect(may(readOnly, 'VIEW_CHANNEL')).toBe(true);
    expect(may(readOnly, 'SEND_MESSAGES')).toBe(false);
  });

  it('the owner and ADMINISTRATOR keep everything, overwrites ignored', () => {
    const hidden = { everyone: bits([], ['VIEW_CHANNEL']), roles: [], member: bits([], ['VIEW_CHANNEL', 'SEND_MESSAGES']) };
    const owner = computePermissions({ isOwner: true, everyone: DEFAULT_EVERYONE_PERMISSIONS, roles: [] });
    expect(computeChannelPermissions(owner, hidden)).toBe(ALL_PERMISSIONS);
    expect(computeChannelPermissions(plainMember([['ADMINISTRATOR']]), hidden)).toBe(ALL_PERMISSIONS);
  });
});
