/**
 * A bug inside a handler must still answer a well-formed InternalError
 * envelope with a RequestId, and leave no partial write behind. The gateway
 * is driven directly with a service whose handler fails after writing.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { DEFAULT_ACCOUNT } from '../../src/config';
import { ApiError } from '../../src/core/errors';
import { TransitionEngine } from '../../src/core/transitions';
import { Accounts } from '../../src/gateway/accounts';
import { Api3Gateway, type Api3Settings } from '../../src/gateway/api3/pipeline';
import { Router } from '../../src/gateway/api3/router';
import { RateLimiter } from '../../src/gateway/ratelimit';
import type { Api3Module as ServiceModule } from '../../src/services/types';
import type { ServiceSpec } from '../../src/spec/types';
import { RequestValidator } from '../../src/spec/validator';
import { SqliteStore } from '../../src/store/sqlite';

const spec: ServiceSpec = {
  service: 'demo',
  version: '2020-01-01',
  source: [],
  structs: {},
  actions: {
    Explode: { name: 'Explode', rateLimit: 20, input: { Name: { type: 'String', required: true } }, output: {}, errors: [] },
    Refuse: { name: 'Refuse', rateLimit: 20, input: { Code: { type: 'String', required: true } }, output: {}, errors: ['FailedOperation.Documented'] },
  },
};

/** A gateway serving one test module, over a real in-memory store. */
function gatewayFor(module: ServiceModule, store: SqliteStore, settings: Partial<Api3Settings> = {}, commonErrors?: Set<string>): Api3Gateway {
  const log = pino({ level: 'silent' });
  return new Api3Gateway({
    accounts: new Accounts([DEFAULT_ACCOUNT], true),
    router: new Router([module.spec]),
    validator: new RequestValidator([module.spec]),
    limiter: new RateLimiter(),
    services: new Map([[module.spec.service, module]]),
    store,
    transitions: new TransitionEngine(store, new Map(), { mode: 'auto', delayMs: 0 }, log),
    log,
    settings: { auth: 'lenient', rateLimits: false, ...settings },
    commonErrors,
  });
}

describe('handler failures', () => {
  it('answer InternalError with a RequestId and roll back the write', async () => {
    const store = new SqliteStore({ inMemory: true });
    const module: ServiceModule = {
      spec,
      handlers: {
        Explode: async (input: { Name: string }, ctx) => {
          await ctx.tx.put({ kind: 'demo.thing', id: input.Name, parent: null, status: null, createdAt: ctx.now, data: {} });
          throw new TypeError('a bug');
        },
      },
    };
    const gateway = gatewayFor(module, store, { rateLimits: true });
    const out = await gateway.handle('POST', '/', { host: 'demo.tencentcloudapi.com', 'content-type': 'application/json', 'x-tc-action': 'Explode', 'x-tc-version': '2020-01-01' }, Buffer.from('{"Name":"x"}'));
    const body = JSON.parse(String(out.body));
    assert.equal(body.Response.Error.Code, 'InternalError');
    assert.equal(body.Response.RequestId, out.requestId);
    const left = await store.transaction(DEFAULT_ACCOUNT.uin, (tx) => tx.get('demo.thing', 'x'));
    assert.equal(left, undefined);
    await store.close();
  });

  it('in strict error-code mode, only documented and common codes pass through', async () => {
    const store = new SqliteStore({ inMemory: true });
    const module: ServiceModule = {
      spec,
      handlers: { Refuse: async (input: { Code: string }) => { throw new ApiError(input.Code, 'no'); } },
    };
    const make = (strictErrorCodes: boolean) => gatewayFor(module, store, { strictErrorCodes }, new Set(['ResourceNotFound']));
    const call = async (gw: Api3Gateway, code: string) => {
      const out = await gw.handle('POST', '/', { host: 'demo.tencentcloudapi.com', 'content-type': 'application/json', 'x-tc-action': 'Refuse', 'x-tc-version': '2020-01-01' }, Buffer.from(JSON.stringify({ Code: code })));
      return JSON.parse(String(out.body)).Response.Error.Code;
    };
    const strict = make(true);
    assert.equal(await call(strict, 'FailedOperation.Documented'), 'FailedOperation.Documented');
    assert.equal(await call(strict, 'ResourceNotFound'), 'ResourceNotFound');
    assert.equal(await call(strict, 'FailedOperation.Invented'), 'InternalError');
    assert.equal(await call(make(false), 'FailedOperation.Invented'), 'FailedOperation.Invented');
    await store.close();
  });
});

describe('strict response checking (tests only)', () => {
  it('turns a success outside the output model into an InternalError naming the difference', async () => {
    const shaped: ServiceSpec = {
      ...spec,
      actions: { Shape: { name: 'Shape', rateLimit: 20, input: { Mode: { type: 'String', required: true } }, output: { Count: { type: 'Integer', required: true } }, errors: [] } },
    };
    const store = new SqliteStore({ inMemory: true });
    const module: ServiceModule = {
      spec: shaped,
      handlers: { Shape: async (input: { Mode: string }) => (input.Mode === 'ok' ? { Count: 1 } : input.Mode === 'missing' ? {} : { Count: 1, Extra: true }) },
    };
    const gw = gatewayFor(module, store, { strictResponses: true });
    const call = async (mode: string) => {
      const out = await gw.handle('POST', '/', { host: 'demo.tencentcloudapi.com', 'content-type': 'application/json', 'x-tc-action': 'Shape', 'x-tc-version': '2020-01-01' }, Buffer.from(JSON.stringify({ Mode: mode })));
      return JSON.parse(String(out.body)).Response;
    };
    assert.equal((await call('ok')).Count, 1);
    assert.equal((await call('missing')).Error.Code, 'InternalError');
    assert.equal((await call('extra')).Error.Code, 'InternalError');
    await store.close();
  });
});
