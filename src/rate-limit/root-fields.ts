import {
  getDirectiveValues,
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  Kind,
  type DocumentNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';

/** The operation a request runs and the root fields it executes, one entry per alias. */
export interface ExecutedOperation {
  type: 'query' | 'mutation' | 'subscription';
  name: string | undefined;
  /** Root field names, one per response key, so `a: login b: login` lists `login` twice. */
  readonly rootFields: readonly string[];
  /** The response key of each entry of `rootFields`: its alias, or else its name. */
  readonly responseKeys: readonly string[];
}

function selectOperation(document: DocumentNode, operationName: string | null | undefined) {
  const operations = document.definitions.filter(
    (definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION,
  );
  if (operationName) return operations.find((operation) => operation.name?.value === operationName);

  return operations.length === 1 ? operations[0] : undefined;
}

/** Set while collecting when a root selection carries directives, whose result may depend on variables. */
interface Collection {
  variables: Record<string, unknown>;
  hasDirectives: boolean;
}

function isIncluded(node: Parameters<typeof getDirectiveValues>[1], collection: Collection): boolean {
  if (!node.directives?.length) return true;
  collection.hasDirectives = true;
  const { variables } = collection;
  try {
    if (getDirectiveValues(GraphQLSkipDirective, node, variables)?.if === true) return false;

    return getDirectiveValues(GraphQLIncludeDirective, node, variables)?.if !== false;
  } catch {
    // An invalid directive argument fails in execution anyway, and counting the field is safer.
    return true;
  }
}

function collectRootFields(
  selectionSet: SelectionSetNode,
  fragments: Map<string, FragmentDefinitionNode>,
  collection: Collection,
  visited: Set<string>,
  into: Map<string, string>,
): void {
  for (const selection of selectionSet.selections) {
    if (!isIncluded(selection, collection)) continue;
    if (selection.kind === Kind.FIELD) {
      // Fields with one response key merge and execute once, as in graphql-js collectFields.
      into.set(selection.alias?.value ?? selection.name.value, selection.name.value);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      collectRootFields(selection.selectionSet, fragments, collection, visited, into);
    } else {
      const fragment = fragments.get(selection.name.value);
      // graphql-js executes a fragment spread once per selection set, however often it repeats.
      if (!fragment || visited.has(fragment.name.value)) continue;
      visited.add(fragment.name.value);
      collectRootFields(fragment.selectionSet, fragments, collection, visited, into);
    }
  }
}

/**
 * Lists the root fields the selected operation of a validated document executes, following
 * fragments on the root type and honouring `@skip` and `@include`. Returns undefined when no
 * operation matches `operationName`, which execution then rejects on its own.
 */
export function executedOperation(
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | null | undefined,
): ExecutedOperation | undefined {
  let byName = fixedOperations.get(document);
  const cached = byName?.get(operationName ?? '');
  if (cached) return cached;
  const operation = selectOperation(document, operationName);
  if (!operation) return undefined;
  const collection: Collection = { variables: variables ?? {}, hasDirectives: false };
  const executed = collect(document, operation, collection);
  // Without @skip or @include on the root selections, the result holds for any variables.
  if (!collection.hasDirectives) {
    if (!byName) {
      byName = new Map();
      fixedOperations.set(document, byName);
    }
    byName.set(operationName ?? '', executed);
  }

  return executed;
}

/**
 * Operations whose root fields do not depend on variables, per document and operation name.
 * graphql-yoga's parser cache returns one document object per query text, so a repeated query
 * is walked once. The cached objects are frozen, because every request shares them.
 */
const fixedOperations = new WeakMap<DocumentNode, Map<string, ExecutedOperation>>();

function collect(document: DocumentNode, operation: OperationDefinitionNode, collection: Collection): ExecutedOperation {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const fieldsByResponseKey = new Map<string, string>();
  collectRootFields(operation.selectionSet, fragments, collection, new Set(), fieldsByResponseKey);
  const rootFields = Object.freeze([...fieldsByResponseKey.values()]);
  const responseKeys = Object.freeze([...fieldsByResponseKey.keys()]);

  return Object.freeze({ type: operation.operation, name: operation.name?.value, rootFields, responseKeys });
}
