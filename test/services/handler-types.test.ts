/**
 * Handlers are typed by their service's generated action table. The
 * `@ts-expect-error` lines below are part of the test: each must be a
 * compile error, or `tsc` (and so the test build) fails.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { handlers as groupHandlers } from '../../src/services/gaap/group/handlers';
import { handlers as proxyHandlers } from '../../src/services/gaap/proxy/handlers';
import { noop } from '../../src/services/kit/noop';
import { composeHandlers, type ActionHandler, type HandlerPart, type UntypedActions } from '../../src/services/types';
import type { TagActions } from '../../src/spec/tag.types';

const tagPage = { TotalCount: 0, Offset: 0, Limit: 15, Tags: [] };
const modify = { ModifyResourceTags: async () => ({}) } satisfies HandlerPart<TagActions>;
const describe = { DescribeResourceTagsByResourceIds: async () => tagPage } satisfies HandlerPart<TagActions>;

test('a handler whose response has the wrong shape does not compile', () => {
  const wrongType = {
    // @ts-expect-error TotalCount is a number
    DescribeResourceTagsByResourceIds: async () => ({ ...tagPage, TotalCount: '0' }),
  } satisfies HandlerPart<TagActions>;
  const missingField = {
    // @ts-expect-error every response field is answered
    DescribeResourceTagsByResourceIds: async () => ({ TotalCount: 0, Offset: 0, Limit: 15 }),
  } satisfies HandlerPart<TagActions>;
  const extraField = { DescribeResourceTagsByResourceIds: async () => ({ ...tagPage, Extra: 1 }) } satisfies HandlerPart<TagActions>;
  // @ts-expect-error a field outside the response type is named where the parts are joined (fieldsOutsideTheResponse)
  const joined = composeHandlers<TagActions>()(modify, extraField);
  assert.equal(Object.keys(joined).length, 2);
  assert.ok(wrongType && missingField);
});

test('a handler that reads the wrong request type does not compile', () => {
  const part = {
    // @ts-expect-error the request has no field Name
    ModifyResourceTags: async (input: { Name: string }) => (input.Name ? {} : {}),
  } satisfies HandlerPart<TagActions>;
  assert.ok(part);
});

test('an action the service does not have does not compile', () => {
  const part = {
    // @ts-expect-error not a Tag action
    DescribeTags: async () => ({}),
  } satisfies HandlerPart<TagActions>;
  assert.ok(part);
});

test('the joined table has every action once', () => {
  const table = composeHandlers<TagActions>()(modify, describe);
  assert.deepEqual(Object.keys(table).sort(), ['DescribeResourceTagsByResourceIds', 'ModifyResourceTags']);
  // @ts-expect-error DescribeResourceTagsByResourceIds has no handler
  composeHandlers<TagActions>()(modify);
  // @ts-expect-error two handlers for DescribeResourceTagsByResourceIds: a compile error, and at run time it throws
  assert.throws(() => composeHandlers<TagActions>()(modify, describe, describe), /two handlers for the action DescribeResourceTagsByResourceIds/);
});

test('a bare ActionHandler (any request, any answer) does not join a table', () => {
  const untyped: ActionHandler = async () => ({});
  // @ts-expect-error ModifyResourceTags has an untyped handler (untypedHandlers)
  composeHandlers<TagActions>()({ ModifyResourceTags: untyped }, describe);
  // A no-op is typed by its answer, so it joins where that answer is the response.
  const table = composeHandlers<TagActions>()({ ModifyResourceTags: noop(() => ({})) }, describe);
  assert.equal(Object.keys(table).length, 2);
});

test('the GAAP reads answered from stored records are typed by the action table', () => {
  // Each of these answers ProxyInfo / ProxyGroupInfo / ProxyGroupDetail built from the stored record;
  // declaring one as a bare ActionHandler again makes `typed` false and this file stops compiling.
  const reads = {
    DescribeProxies: proxyHandlers.DescribeProxies,
    DescribeProxyDetail: proxyHandlers.DescribeProxyDetail,
    DescribeProxyGroupList: groupHandlers.DescribeProxyGroupList,
    DescribeProxyGroupDetails: groupHandlers.DescribeProxyGroupDetails,
  };
  const typed: [UntypedActions<typeof reads>] extends [never] ? true : false = true;
  const wholeParts: [UntypedActions<typeof proxyHandlers | typeof groupHandlers>] extends [never] ? true : false = true;
  assert.ok(typed && wholeParts);
  assert.deepEqual(Object.values(reads).map((h) => typeof h), ['function', 'function', 'function', 'function']);
});
