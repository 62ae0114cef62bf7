import { ApiError, invalidParameterValue } from '../../../core/errors';
import { resourceId } from '../../../core/ids';
import type { CreateDomainErrorPageInfoRequest, DeleteDomainErrorPageInfoRequest, DescribeDomainErrorPageInfoByIdsRequest, DescribeDomainErrorPageInfoRequest, DomainErrorPageInfo, GaapActions } from '../../../spec/gaap.types';
import type { HandlerPart } from '../../types';
import { isBlackHeader } from './black-headers';
import { domainKey, getL7Listener, guardListener, listenerNotFound, type L7ListenerData } from './model';
import { KIND } from '../kinds';

/** Custom error pages of a domain (records hold DomainErrorPageInfo), synchronous. */

const MAX_IDS = 10;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;
const httpStatus = (n: number) => Number.isInteger(n) && n >= 100 && n <= 599;

export const handlers = {
  CreateDomainErrorPageInfo: async (input: CreateDomainErrorPageInfoRequest, ctx) => {
    const listener = await getL7Listener(ctx, input.ListenerId, 'FailedOperation.InvalidListenerProtocol');
    await guardListener(ctx, listener, { proxy: 'FailedOperation.ProxyStatusNotInRuning', version: 'FailedOperation.ProxyVersionNotSupport' });
    const domain = await ctx.tx.get(KIND.domain, domainKey(input.ListenerId, input.Domain));
    if (!domain) throw new ApiError('ResourceNotFound', `The domain \`${input.Domain}\` does not exist on listener \`${input.ListenerId}\`.`);
    const errorNos = [...new Set(input.ErrorNos)];
    if (errorNos.length === 0) throw invalidParameterValue('ErrorNos', 'at least one HTTP status code');
    for (const n of errorNos) if (!httpStatus(n)) throw invalidParameterValue('ErrorNos', `\`${n}\` is not an HTTP status code (100-599)`);
    if (input.NewErrorNo !== undefined && !httpStatus(input.NewErrorNo)) throw invalidParameterValue('NewErrorNo', 'an HTTP status code (100-599)');
    if (input.Body === '') throw invalidParameterValue('Body', 'must not be empty');
    for (const h of input.ClearHeaders ?? []) if (!HEADER_NAME.test(h)) throw invalidParameterValue('ClearHeaders', `\`${h}\` is not a header name`);
    for (const h of input.SetHeaders ?? []) {
      if (!HEADER_NAME.test(h.HeaderName)) throw invalidParameterValue('SetHeaders', `\`${h.HeaderName}\` is not a header name`);
      if (isBlackHeader(h.HeaderName)) throw invalidParameterValue('SetHeaders', `the header \`${h.HeaderName}\` may not be set`);
    }
    const existing = await ctx.tx.list<DomainErrorPageInfo>(KIND.errorPage, { parent: input.ListenerId });
    for (const p of existing.items) {
      if (p.data.Domain.toLowerCase() !== input.Domain.toLowerCase()) continue;
      const dup = p.data.ErrorNos.find((n) => errorNos.includes(n));
      if (dup !== undefined) {
        throw new ApiError('FailedOperation.DomainAlreadyExisted', `The domain \`${input.Domain}\` already has an error page for status ${dup} (\`${p.id}\`).`);
      }
    }
    const id = resourceId('errorPage');
    const data: DomainErrorPageInfo = {
      ErrorPageId: id,
      ListenerId: input.ListenerId,
      Domain: input.Domain,
      ErrorNos: errorNos,
      NewErrorNo: input.NewErrorNo ?? 0,
      ClearHeaders: input.ClearHeaders ?? [],
      SetHeaders: (input.SetHeaders ?? []).map((h) => ({ HeaderName: h.HeaderName, HeaderValue: h.HeaderValue })),
      Body: input.Body,
      Status: 0,
    };
    await ctx.tx.put({ kind: KIND.errorPage, id, parent: input.ListenerId, status: null, createdAt: ctx.now, data });
    return { ErrorPageId: id };
  },

  DeleteDomainErrorPageInfo: async (input: DeleteDomainErrorPageInfoRequest, ctx) => {
    const page = await ctx.tx.get<DomainErrorPageInfo>(KIND.errorPage, input.ErrorPageId);
    if (!page) throw new ApiError('ResourceNotFound', `The error page \`${input.ErrorPageId}\` does not exist.`);
    const listener = await ctx.tx.get<L7ListenerData>(KIND.listener, page.data.ListenerId);
    if (listener) await guardListener(ctx, listener, { proxy: 'FailedOperation.ProxyStatusNotInRuning' });
    await ctx.tx.delete(KIND.errorPage, input.ErrorPageId);
    return {};
  },

  DescribeDomainErrorPageInfo: async (input: DescribeDomainErrorPageInfoRequest, ctx) => {
    if (!(await ctx.tx.get(KIND.listener, input.ListenerId))) throw listenerNotFound(input.ListenerId);
    const pages = await ctx.tx.list<DomainErrorPageInfo>(KIND.errorPage, { parent: input.ListenerId });
    return { ErrorPageSet: pages.items.filter((p) => p.data.Domain.toLowerCase() === input.Domain.toLowerCase()).map((p) => p.data) };
  },

  DescribeDomainErrorPageInfoByIds: async (input: DescribeDomainErrorPageInfoByIdsRequest, ctx) => {
    if (input.ErrorPageIds.length > MAX_IDS) throw invalidParameterValue('ErrorPageIds', `at most ${MAX_IDS} ids`);
    if (input.ErrorPageIds.length === 0) return { ErrorPageSet: [] };
    const pages = await ctx.tx.list<DomainErrorPageInfo>(KIND.errorPage, { ids: input.ErrorPageIds });
    return { ErrorPageSet: pages.items.map((p) => p.data) };
  },
} satisfies HandlerPart<GaapActions>;
