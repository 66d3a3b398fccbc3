// Keyset pages over id-ordered lists: what planPage asks the database for, and how
// finishPage turns the rows into a page.
import { describe, expect, it, vi } from 'vitest';
import { DomainError } from '../../src/services/errors.js';
import { DEFAULT_PAGE_SIZE, type PageArgs, finishPage, planPage } from '../../src/services/pagination.js';

/** The field a BAD_USER_INPUT thrown by fn names. */
function refusedField(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DomainError);
    expect((err as DomainError).code).toBe('BAD_USER_INPUT');
    return (err as DomainError).extensions.field;
  }
  throw new Error('expected a refusal');
}

// A list of ids "a".."j" (ascending); a message history shows them newest first.
const IDS = 'abcdefghij'.split('');

/** Runs a plan against IDS the way a database would, then finishes the page. */
async function pageOf(args: PageArgs, order: 'asc' | 'desc') {
  const plan = planPage(args, order);
  const matches = (id: string, f: { lt?: string; gt?: string } | undefined) =>
    (!f?.lt || id < f.lt) && (!f?.gt || id > f.gt);
  const sorted = [...IDS].sort();
  if (plan.direction === 'desc') sorted.reverse();
  const rows = sorted.filter((id) => matches(id, plan.cursorFilter)).slice(0, plan.take).map((id) => ({ id }));
  const exists = vi.fn(async (f: { lt?: string; gt?: string }) => IDS.some((id) => matches(id, f)));
  const page = await finishPage(rows, plan, order, Boolean(args.after ?? args.before), exists);
  return { ids: page.items.map((r) => r.id), hasNextPage: page.hasNextPage, hasPreviousPage: page.hasPreviousPage, exists };
}

describe('planPage', () => {
  it('defaults to the first 50, fetching one more to know whether there is a next page', () => {
    expect(planPage({}, 'desc')).toEqual({
      cursorFilter: undefined,
      direction: 'desc',
      take: DEFAULT_PAGE_SIZE + 1,
      size: DEFAULT_PAGE_SIZE,
      backwards: false,
    });
    expect(DEFAULT_PAGE_SIZE).toBe(50);
  });

  it('first/after on a newest-first list asks for older ids', () => {
    expect(planPage({ first: 10, after: 'm' }, 'desc')).toMatchObject({ cursorFilter: { lt: 'm' }, direction: 'desc', take: 11 });
  });

  it('last/before on a newest-first list asks for newer ids, nearest first', () => {
    expect(planPage({ last: 10, before: 'm' }, 'desc')).toMatchObject({
      cursorFilter: { gt: 'm' },
      direction: 'asc',
      backwards: true,
    });
  });

  it('before alone pages backwards too', () => {
    expect(planPage({ before: 'm' }, 'asc')).toMatchObject({ cursorFilter: { lt: 'm' }, direction: 'desc', backwards: true });
  });

  it('accepts 0 to 100 items', () => {
    expect(planPage({ first: 0 }, 'asc').size).toBe(0);
    expect(planPage({ first: 100 }, 'asc').size).toBe(100);
    expect(planPage({ last: 100 }, 'asc').size).toBe(100);
  });

  it('refuses more than 100 or fewer than 0, naming the argument', () => {
    expect(refusedField(() => planPage({ first: 101 }, 'desc'))).toBe('first');
    expect(refusedField(() => planPage({ last: 101 }, 'desc'))).toBe('last');
    expect(refusedField(() => planPage({ first: -1 }, 'desc'))).toBe('first');
  });

  it('refuses first and last together', () => {
    expect(refusedField(() => planPage({ first: 1, last: 1 }, 'desc'))).toBe('first');
  });
});

describe('finishPage', () => {
  it('a first page: next page when more rows exist, no previous page, no extra query', async () => {
    const page = await pageOf({ first: 3 }, 'desc');
    expect(page).toMatchObject({ ids: ['j', 'i', 'h'], hasNextPage: true, hasPreviousPage: false });
    expect(page.exists).not.toHaveBeenCalled();
  });

  it('a middle page knows both sides', async () => {
    expect(await pageOf({ first: 3, after: 'h' }, 'desc')).toMatchObject({
      ids: ['g', 'f', 'e'],
      hasNextPage: true,
      hasPreviousPage: true,
    });
  });

  it('the last page has no next page', async () => {
    expect(await pageOf({ first: 3, after: 'c' }, 'desc')).toMatchObject({
      ids: ['b', 'a'],
      hasNextPage: false,
      hasPreviousPage: true,
    });
  });

  it('a backward page comes back in list order', async () => {
    expect(await pageOf({ last: 3, before: 'c' }, 'desc')).toMatchObject({
      ids: ['f', 'e', 'd'],
      hasPreviousPage: true,
      hasNextPage: true,
    });
    expect(await pageOf({ last: 3, before: 'h' }, 'desc')).toMatchObject({
      ids: ['j', 'i'],
      hasPreviousPage: false,
      hasNextPage: true,
    });
  });

  it('works the same on an ascending list', async () => {
    expect(await pageOf({ first: 4, after: 'b' }, 'asc')).toMatchObject({
      ids: ['c', 'd', 'e', 'f'],
      hasNextPage: true,
      hasPreviousPage: true,
    });
    expect(await pageOf({ last: 2, before: 'b' }, 'asc')).toMatchObject({ ids: ['a'], hasPreviousPage: false, hasNextPage: true });
  });

  it('walking forward then backward visits every id once', async () => {
    const forward: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await pageOf({ first: 3, after }, 'desc');
      forward.push(...page.ids);
      if (!page.hasNextPage) break;
      after = page.ids.at(-1);
    }
    expect(forward).toEqual([...IDS].reverse());

    const backward: string[] = [];
    let before: string | undefined = 'a';
    for (;;) {
      const page = await pageOf({ last: 4, before }, 'desc');
      backward.unshift(...page.ids);
      if (!page.hasPreviousPage) break;
      before = page.ids[0];
    }
    expect(backward).toEqual([...IDS].reverse().slice(0, -1));
  });
});
