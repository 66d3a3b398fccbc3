// The default place to land: a public guild (DEFAULT_GUILD_NAME, "Lobby") that every new
// account joins, so a first user can chat at once.
//
// Its owner is the instance's first account, someone who can moderate it. On a new instance
// the lobby is made before anyone has an account, so until the first one registers it belongs
// to a built-in system account that cannot sign in (its password hash is no hash), is never
// found in the directory and is not a member; the first account to register takes it over and
// later accounts simply join. An instance that already had accounts when the lobby came (an
// upgrade) gives it to its earliest account at once, not to whoever registers next. Which guild is the lobby is
// recorded in InstanceSetting: instances starting at once on one database race to insert
// that row in the transaction that creates the guild, and the losers' transactions roll
// back, so there is never a second lobby. A lobby its owner deleted is not made again.
import type { Db } from '../db/client.js';
import { Prisma } from '../generated/prisma/client.js';
import type { GuildService } from './guilds.js';

export const SYSTEM_USER_ID = '00000000000000000000000000';
const LOBBY_SETTING = 'defaultGuildId';

export class LobbyService {
  private guildId: string | null = null;

  constructor(
    private readonly db: Db,
    private readonly guilds: GuildService,
    /** '' for no lobby */
    private readonly name: string,
  ) {}

  /** Finds or creates the lobby; null when there is none (disabled). Safe to race. */
  async ensure(): Promise<string | null> {
    if (!this.name) return null;
    this.guildId ??= (await this.recorded()) ?? (await this.create());
    return this.guildId;
  }

  /** A new account joins the lobby, and the first one takes it over from the system account. */
  async welcome(userId: string): Promise<void> {
    const guildId = await this.ensure();
    if (!guildId) return;
    if (!(await this.db.guild.findUnique({ where: { id: guildId }, select: { id: true } }))) return;
    await this.guilds.admit(guildId, userId);
    await this.guilds.handOver(guildId, SYSTEM_USER_ID, userId);
  }

  private async recorded(): Promise<string | null> {
    return (await this.db.instanceSetting.findUnique({ where: { key: LOBBY_SETTING } }))?.value ?? null;
  }

  private async create(): Promise<string> {
    await this.db.user.createMany({
      data: [
        {
          id: SYSTEM_USER_ID,
          username: '~system',
          usernameKey: '~system',
          displayName: 'System',
          // no address and no hash: nobody can register this email or sign in with any password
          email: '~system',
          passwordHash: '!',
          discoverable: false,
        },
      ],
      skipDuplicates: true,
    });
    const earliest = await this.db.user.findFirst({
      where: { id: { not: SYSTEM_USER_ID } },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      select: { id: true },
    });
    const { guildId, writes } = this.guilds.creation(
      earliest?.id ?? SYSTEM_USER_ID,
      { name: this.name, isPublic: true },
      { ownerJoins: Boolean(earliest) },
    );
    try {
      await this.db.$transaction([...writes, this.db.instanceSetting.create({ data: { key: LOBBY_SETTING, value: guildId } })]);
      return guildId;
    } catch (err) {
      // another instance recorded its lobby first: ours was rolled back with the setting
      if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002') {
        const winner = await this.recorded();
        if (winner) return winner;
      }
      throw err;
    }
  }
}
