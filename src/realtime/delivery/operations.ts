// Operations as the delivery path needs them: parsed and validated once per distinct
// document (not once per subscriber), with the facts that decide how an event is shared:
// its operation type and whether it selects a field that depends on the viewer.
import {
  type DocumentNode,
  GraphQLError,
  type GraphQLSchema,
  Kind,
  TypeInfo,
  getOperationAST,
  visit,
  visitWithTypeInfo,
} from 'graphql';
import { isViewerDependentField } from '../../schema/events.js';

export interface PreparedOperation {
  document: DocumentNode;
  operationName: string | undefined;
  kind: 'query' | 'mutation' | 'subscription';
  /** selects a field marked viewerDependent: execute it for each viewer, never shared */
  viewerDependent: boolean;
  /** identifies the document and operation among those this instance has prepared */
  key: string;
}

export type ParseAndValidate = (query: string) => DocumentNode | readonly GraphQLError[];

/** Does the document select, anywhere (fragments included), a field marked viewerDependent? */
export function selectsViewerDependentField(schema: GraphQLSchema, document: DocumentNode): boolean {
  const typeInfo = new TypeInfo(schema);
  let found = false;
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      [Kind.FIELD]() {
        if (isViewerDependentField(typeInfo.getFieldDef()?.extensions)) found = true;
      },
    }),
  );
  return found;
}

/** A bounded cache of prepared operations, keyed by document text and operation name. */
export class OperationCache {
  private readonly entries = new Map<string, PreparedOperation | readonly GraphQLError[]>();
  private nextId = 0;

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly parseAndValidate: ParseAndValidate,
    private readonly maxEntries = 1_000,
  ) {}

  get(query: string, operationName: string | null | undefined): PreparedOperation | readonly GraphQLError[] {
    const cacheKey = `${operationName ?? ''}\u0000${query}`;
    const hit = this.entries.get(cacheKey);
    if (hit) {
      // refresh its place: the map's order is least recently used first
      this.entries.delete(cacheKey);
      this.entries.set(cacheKey, hit);
      return hit;
    }
    const prepared = this.prepare(query, operationName ?? undefined);
    this.entries.set(cacheKey, prepared);
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    return prepared;
  }

  private prepare(query: string, operationName: string | undefined): PreparedOperation | readonly GraphQLError[] {
    const document = this.parseAndValidate(query);
    if (Array.isArray(document)) return document;
    const doc = document as DocumentNode;
    const operation = getOperationAST(doc, operationName);
    if (!operation) return [new GraphQLError('Unable to identify operation')];
    return {
      document: doc,
      operationName,
      kind: operation.operation,
      viewerDependent: selectsViewerDependentField(this.schema, doc),
      key: String(this.nextId++),
    };
  }
}

/** JSON with object keys sorted, so `{a,b}` and `{b,a}` variables name one cohort. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}
