import type { ActionHandler } from '../core/service';
import type { RawJson } from '../core/raw-json';

/** The module shape and a handler's context live below the gateway, the services and the transition engine. */
export type {
  ActionContext, ActionHandler, Api3Module, Language, ServiceDefinition, ServiceModule, ServiceSettings, TransitionHandler, XmlModule,
} from '../core/service';

/** One entry of a service's generated action table (e.g. GaapActions): an action's request and response types. */
export interface ActionTypes {
  request: unknown;
  response: unknown;
}
type RequestOf<T> = T extends ActionTypes ? T['request'] : never;
type ResponseOf<T> = T extends ActionTypes ? T['response'] : never;

/**
 * A response as a handler gives it: the action's response type, where a
 * top-level field may also be JSON already serialised (records answered as
 * they are stored).
 */
export type Reply<R> = { [K in keyof R]: R[K] | RawJson };

/** One handler per action of the table, each typed by its action's request and response. */
export type HandlerTable<M> = { [A in keyof M]: ActionHandler<RequestOf<M[A]>, Reply<ResponseOf<M[A]>>> };

/** The handler of one action, typed by the action table: for a handler declared on its own before it joins a part. */
export type HandlerOf<M, A extends keyof M> = HandlerTable<M>[A];

/** Handlers of some of a service's actions (one resource's part of the service). */
export type HandlerPart<M> = Partial<HandlerTable<M>>;

type KeysOfAny<P extends readonly object[]> = P[number] extends infer U ? (U extends unknown ? keyof U : never) : never;
type Duplicated<P extends readonly object[], Seen = never> = P extends readonly [infer H, ...infer R extends readonly object[]]
  ? (keyof H & Seen) | Duplicated<R, Seen | keyof H>
  : never;
type IsAny<T> = 0 extends 1 & T ? true : false;
/** `Action.Field` for each field a handler answers that its response type lacks (the return types are inferred, so no excess check sees them). */
type ExtraFields<M, H> = H extends unknown ? ExtraFieldsOfPart<M, H> : never;
type ExtraFieldsOfPart<M, H> = {
  [A in keyof H & keyof M]: H[A] extends (...args: never[]) => infer O
    ? Awaited<O> extends infer V
      ? V extends unknown
        ? IsAny<V> extends true ? never : `${A & string}.${Exclude<keyof V, keyof ResponseOf<M[A]>> & string}`
        : never
      : never
    : never;
}[keyof H & keyof M];
/**
 * Actions whose handler reads an `any` request or answers `any` (a bare
 * `ActionHandler`): the table's types would not reach inside it.
 */
export type UntypedActions<H> = H extends unknown
  ? {
    [A in keyof H]-?: H[A] extends (input: infer I, ...rest: never[]) => infer O
      ? IsAny<I> extends true ? A : IsAny<Awaited<O>> extends true ? A : never
      : never;
  }[keyof H]
  : never;
/**
 * Accepts the parts only when every action has exactly one handler, typed,
 * and no handler answers a field outside its response type; otherwise the
 * error names the actions (or fields).
 */
type WholeTable<M, P extends readonly object[]> = [Duplicated<P>] extends [never]
  ? [Exclude<keyof M, KeysOfAny<P>>] extends [never]
    ? [UntypedActions<P[number]>] extends [never]
      ? [ExtraFields<M, P[number]>] extends [never]
        ? unknown
        : { fieldsOutsideTheResponse: ExtraFields<M, P[number]> }
      : { untypedHandlers: UntypedActions<P[number]> }
    : { actionsWithoutHandler: Exclude<keyof M, KeysOfAny<P>> }
  : { actionsWithTwoHandlers: Duplicated<P> };

/**
 * Joins the handler parts of a service into its whole table. At compile
 * time an action without a handler, or with two, is an error naming the
 * action; at run time (for parts built dynamically) two handlers for one
 * action throw.
 */
export function composeHandlers<M>() {
  return <const P extends readonly HandlerPart<M>[]>(...parts: P & WholeTable<M, P>): HandlerTable<M> => {
    const table: Record<string, unknown> = {};
    for (const part of parts as readonly HandlerPart<M>[]) {
      for (const [action, handler] of Object.entries(part)) {
        if (Object.hasOwn(table, action)) throw new Error(`two handlers for the action ${action}`);
        table[action] = handler;
      }
    }
    return table as HandlerTable<M>;
  };
}
