// Scenario "search": searchMessages over a channel of 1,000,000 messages (issue #11: p95 under
// 100 ms). Two users of one guild; the channel is filled straight in PostgreSQL with
// INSERT … SELECT generate_series, every tenth message by the second author. The text is drawn
// from a vocabulary of 5,000 words with a skewed (Zipf-like) frequency: the 40 most common
// English words first ("the" ends up in about a quarter of the messages), then made-up words
// whose frequencies fall off to a few per million. Each message joins two of 10,000 fragments
// of 2 to 8 such words (so messages differ), and one in 50,000 carries a rare word. Rows go
// into the table in id order, as a chat's messages arrive (without ORDER BY the joins would
// shuffle them, and every id-ordered walk would touch a page per row). The GIN
// index is built after the fill, as a bulk load would. Then each query of the mix is timed
// over HTTP as the member, interleaved, after warm-ups; p50 and p95 per query and over all.
import { randomBytes } from 'node:crypto';
import type { Bench } from '../lib/bench.js';
import { PASSWORD } from '../lib/bench.js';
import { gql } from '../lib/http.js';
import { CREATE_GUILD, CREATE_INVITE, JOIN_GUILD, REGISTER, SEARCH } from '../lib/operations.js';
import { fmtInt, fmtMs, percentile, wallNow } from '../lib/util.js';

const COMMON = (
  'the be to of and a in that have i it for not on with he as you do at this but his by from ' +
  'they we say her she or an will my one all would there their what'
).split(' ');
const VOCABULARY = 5000;
const FRAGMENTS = 10_000;
const RARE = 'xylophone';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** SQL for `chars` Crockford base-32 digits of a bigint expression, most significant first. */
function base32(expr: string, chars: number): string {
  const parts: string[] = [];
  for (let k = chars - 1; k >= 0; k--) parts.push(`substr('${ALPHABET}', (((${expr}) >> ${5 * k}) & 31)::int + 1, 1)`);
  return parts.join(' || ');
}

/** Made-up words that read like words: consonant-vowel syllables, numbered past 1,000. */
function vocabulary(): string[] {
  const c = 'bcdfghjklmnprstvz';
  const v = 'aeiou';
  const words = [...COMMON];
  for (let n = words.length; n < VOCABULARY; n++)
    words.push(`${c[(n * 7) % 17]}${v[(n * 3) % 5]}${c[(n * 11) % 17]}${v[Math.floor(n / 5) % 5]}${c[Math.floor(n / 13) % 17]}${Math.floor(n / 1000) || ''}`);
  return words;
}

async function registerUser(url: string, name: string) {
  const { register } = await gql<{ register: { accessToken: string; user: { id: string } } }>(url, undefined, REGISTER, {
    input: { username: name, email: `${name}@bench.invalid`, password: PASSWORD },
  });
  return { token: register.accessToken, userId: register.user.id };
}

export async function search(bench: Bench): Promise<void> {
  const k = bench.knobs;
  const [a] = await bench.ensureInstances(1);
  const url = a!.graphqlUrl;
  const tag = `b${bench.runId}s`;
  const owner = await registerUser(url, `${tag}owner`);
  const member = await registerUser(url, `${tag}member`);
  const { createGuild } = await gql<{ createGuild: { id: string; channels: { id: string }[] } }>(url, owner.token, CREATE_GUILD, {
    input: { name: 'Search' },
  });
  const { createInvite } = await gql<{ createInvite: { code: string } }>(url, owner.token, CREATE_INVITE, { guildId: createGuild.id });
  await gql(url, member.token, JOIN_GUILD, { code: createInvite.code });
  const { rows } = await bench.db!.query<{ channel: string; owner: string; member: string }>(
    `SELECT c.id AS channel, g."ownerId" AS owner, (SELECT id FROM "User" WHERE username = $2) AS member
       FROM "Channel" c JOIN "Guild" g ON g.id = c."guildId" JOIN "User" u ON u.id = g."ownerId" WHERE u.username = $1`,
    [`${tag}owner`, `${tag}member`],
  );
  const { channel, owner: ownerDbId, member: memberDbId } = rows[0]!;

  // ---- seed, straight into PostgreSQL ------------------------------------------------------
  const words = vocabulary();
  console.error(`bench: search: seeding ${fmtInt(k.searchMessages)} messages`);
  const t0 = wallNow();
  const salt = BigInt(`0x${randomBytes(5).toString('hex')}`).toString();
  const base = Date.now() - 24 * 3600_000 - k.searchMessages;
  const id = `${base32(`${base}::bigint + i`, 10)} || ${base32(`${salt}::bigint`, 8)} || ${base32('i::bigint', 8)}`;
  const client = await bench.db!.connect();
  try {
    await client.query(`CREATE TEMP TABLE vocab AS SELECT n - 1 AS n, w FROM unnest($1::text[]) WITH ORDINALITY AS v(w, n)`, [words]);
    // word n is drawn with probability falling off as a power: a few very common words, a long tail
    await client.query(
      `CREATE TEMP TABLE picks AS SELECT f, k, floor(${VOCABULARY} * pow(random(), 2.5))::int AS n
         FROM generate_series(0, ${FRAGMENTS - 1}) f CROSS JOIN LATERAL generate_series(1, 2 + f % 7) k`,
    );
    await client.query(
      `CREATE TEMP TABLE fragment AS SELECT p.f, string_agg(v.w, ' ' ORDER BY p.k) AS t FROM picks p JOIN vocab v ON v.n = p.n GROUP BY p.f`,
    );
    await client.query('DROP INDEX "Message_search_idx"');
    await client.query('BEGIN');
    await client.query('SET LOCAL synchronous_commit = off');
    await client.query(
      `INSERT INTO "Message" (id, "channelId", "authorId", content, "createdAt")
       SELECT ${id}, $1, CASE WHEN i % 10 = 0 THEN $3 ELSE $2 END,
              initcap(a.t) || ' ' || b.t || CASE WHEN i % 50000 = 7 THEN ' ${RARE}' ELSE '' END,
              to_timestamp((${base}::bigint + i) / 1000.0)
         FROM generate_series(1, $4::int) AS i
         JOIN fragment a ON a.f = i % ${FRAGMENTS} JOIN fragment b ON b.f = (i * 7 + i / ${FRAGMENTS}) % ${FRAGMENTS}
        ORDER BY i`,
      [channel, ownerDbId, memberDbId, k.searchMessages],
    );
    await client.query('COMMIT');
    await client.query(`SET maintenance_work_mem = '256MB'`);
    await client.query('CREATE INDEX "Message_search_idx" ON "Message" USING GIN ("search")');
    await client.query('ANALYZE "Message"');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
  const seedMs = wallNow() - t0;
  const { rows: freq } = await bench.db!.query<{ word: string; n: number }>(
    `SELECT w AS word, (SELECT count(*)::int FROM "Message" WHERE "channelId" = $2 AND search @@ to_tsquery('simple', w)) AS n FROM unnest($1::text[]) w`,
    [[COMMON[0]!, words[200]!, RARE], channel],
  );
  bench.report.note(
    `search: seeded ${fmtInt(k.searchMessages)} messages in ${fmtMs(seedMs)} (GIN index built after the fill); ` +
      freq.map((f) => `"${f.word}" is in ${fmtInt(f.n)}`).join(', '),
  );

  // ---- the queries --------------------------------------------------------------------------
  type Query = { name: string; vars: Record<string, unknown> };
  const mix: Query[] = [
    { name: `rare word ("${RARE}")`, vars: { query: RARE } },
    { name: `common word ("${COMMON[0]}")`, vars: { query: COMMON[0] } },
    { name: `mid-frequency word ("${words[200]}")`, vars: { query: words[200] } },
    { name: `two words ("${words[60]} ${words[90]}")`, vars: { query: `${words[60]} ${words[90]}` } },
    { name: `phrase ("\\"${COMMON[0]} ${COMMON[1]}\\"")`, vars: { query: `"${COMMON[0]} ${COMMON[1]}"` } },
    { name: `common word, by the second author`, vars: { query: COMMON[0], authorId: member.userId } },
    { name: `word -excluded ("${COMMON[1]} -${COMMON[0]}")`, vars: { query: `${COMMON[1]} -${COMMON[0]}` } },
    { name: `common word, NEWEST`, vars: { query: COMMON[0], orderBy: 'NEWEST' } },
  ];
  const times = mix.map(() => [] as number[]);
  const counts = mix.map(() => 0);
  for (let rep = -2; rep < k.searchRepeat; rep++) {
    for (const [i, q] of mix.entries()) {
      const t = wallNow();
      const data = await gql<{ searchMessages: { edges: unknown[] } }>(url, member.token, SEARCH, { first: 25, ...q.vars });
      const ms = wallNow() - t;
      counts[i] = data.searchMessages.edges.length;
      if (rep >= 0) times[i]!.push(ms);
    }
  }
  const all = times.flat();
  for (const [i, q] of mix.entries()) {
    const p95 = percentile(times[i]!, 95);
    bench.report.add({
      scenario: `searchMessages over ${fmtInt(k.searchMessages)} messages (PostgreSQL, first: 25, RELEVANCE unless said): ${q.name}`,
      yardstick: '—',
      api: `p50 ${fmtMs(percentile(times[i]!, 50))}, p95 ${fmtMs(p95)} (${k.searchRepeat} runs, → ${counts[i]} hits)`,
      ratio: '—',
      target: 'p95 < 100 ms',
      met: p95 < 100,
    });
  }
  const p95 = percentile(all, 95);
  bench.report.add({
    scenario: `searchMessages over ${fmtInt(k.searchMessages)} messages: the whole mix (${mix.length} queries × ${k.searchRepeat})`,
    yardstick: '—',
    api: `p50 ${fmtMs(percentile(all, 50))}, p95 ${fmtMs(p95)}`,
    ratio: '—',
    target: 'p95 < 100 ms',
    met: p95 < 100,
  });
}
