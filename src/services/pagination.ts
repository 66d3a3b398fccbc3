// Keyset pagination over ULID ids, shared by every connection.
import { badInput } from './errors.js';
import { check, rules } from './validation.js';

export interface PageArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

export interface Page<T> {
  items: T[];
  hasNextPage: boolean;
  hasPreviousPage: boolean;
}

export const DEFAULT_PAGE_SIZE = 50;

export interface PageQuery {
  /** rows strictly beyond the cursor in the fetch direction */
  cursorFilter: { lt?: string; gt?: string } | undefined;
  direction: 'asc' | 'desc';
  take: number;
  size: number;
  backwards: boolean;
}

/**
 * Plans a page over a list ordered by id in `order`. `first/after` walk the list forward,
 * `last/before` walk it backward; rows come back in list order either way.
 */
export function planPage(args: PageArgs, order: 'asc' | 'desc'): PageQuery {
  if (args.first != null && args.last != null) throw badInput('Use either first or last, not both.', 'first');
  const backwards = args.last != null || (args.before != null && args.first == null);
  const size = check(rules.pageSize, (backwards ? args.last : args.first) ?? DEFAULT_PAGE_SIZE, backwards ? 'last' : 'first');
  const forwardOp = order === 'desc' ? 'lt' : 'gt';
  const backwardOp = order === 'desc' ? 'gt' : 'lt';
  const cursor = backwards ? args.before : args.after;
  const op = backwards ? backwardOp : forwardOp;
  const fetchOrder = backwards ? (order === 'desc' ? 'asc' : 'desc') : order;
  return {
    cursorFilter: cursor ? { [op]: cursor } : undefined,
    direction: fetchOrder,
    take: size + 1,
    size,
    backwards,
  };
}

/**
 * Turns the fetched rows (size + 1 at most, in fetch order) into a page in list order.
 * `exists(idFilter)` tells whether any row matches an id filter; it answers the side of
 * the page the fetch did not look at (only asked when a cursor was given).
 */
export async function finishPage<T extends { id: string }>(
  rows: T[],
  plan: PageQuery,
  order: 'asc' | 'desc',
  cursorGiven: boolean,
  exists: (idFilter: { lt?: string; gt?: string }) => Promise<boolean>,
): Promise<Page<T>> {
  const more = rows.length > plan.size;
  const items = rows.slice(0, plan.size);
  if (plan.backwards) items.reverse();
  // rows before the first item (forward) or after the last one (backward), in list order
  const edge = plan.backwards ? items[items.length - 1] : items[0];
  const towardStart = order === 'desc' ? 'gt' : 'lt';
  const towardEnd = order === 'desc' ? 'lt' : 'gt';
  const otherSide =
    cursorGiven && edge ? await exists({ [plan.backwards ? towardEnd : towardStart]: edge.id }) : false;
  return plan.backwards
    ? { items, hasPreviousPage: more, hasNextPage: otherSide }
    : { items, hasNextPage: more, hasPreviousPage: otherSide };
}

/** A Prisma model as far as paging by id needs it. */
export interface IdPagedModel<Row, Where> {
  findMany(args: { where: Where; orderBy: { id: 'asc' | 'desc' }; take: number }): Promise<Row[]>;
  findFirst(args: { where: Where; select: { id: true } }): Promise<unknown>;
  count(args: { where: Where }): Promise<number>;
}

/**
 * A page of `model`'s rows matching `where`, ordered by id, with the connection's page info
 * and a lazy totalCount: the one keyset pagination of the services (history pages, which
 * load everything in one statement, plan with planPage directly).
 */
export async function pageById<Row extends { id: string }, Where extends object>(
  model: IdPagedModel<Row, Where>,
  where: Where,
  page: PageArgs,
  order: 'asc' | 'desc' = 'asc',
): Promise<Page<Row> & { totalCount: () => Promise<number> }> {
  const plan = planPage(page, order);
  const within = (id: { lt?: string; gt?: string } | undefined) => ({ AND: [where, { id }] }) as unknown as Where;
  const rows = await model.findMany({ where: within(plan.cursorFilter), orderBy: { id: plan.direction }, take: plan.take });
  const result = await finishPage(rows, plan, order, Boolean(page.after ?? page.before), async (id) =>
    Boolean(await model.findFirst({ where: within(id), select: { id: true } })),
  );
  return { ...result, totalCount: () => model.count({ where }) };
}
