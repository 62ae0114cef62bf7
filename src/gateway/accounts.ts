import { createHash } from 'node:crypto';
import type { Account, AccountConfig } from '../core/account';

export type { Account } from '../core/account';

/** Who a SecretId belongs to. */
export class Accounts {
  private readonly bySecretId = new Map<string, Account>();
  private readonly byAppId = new Map<number, Account>();
  readonly default: Account;

  constructor(configured: AccountConfig[], private readonly lenient: boolean) {
    for (const a of configured) {
      const account = { ...a, known: true };
      this.bySecretId.set(a.secretId, account);
      this.byAppId.set(a.appId, account);
    }
    this.default = this.bySecretId.get(configured[0].secretId)!;
  }

  /**
   * The account of a SecretId; in lenient mode an unknown one becomes a
   * tenant of its own, with UIN and APPID derived from it so that it is the
   * same tenant on every request and after a restart.
   */
  find(secretId: string): Account | undefined {
    const known = this.bySecretId.get(secretId);
    if (known || !this.lenient) return known;
    const digest = createHash('sha256').update(secretId).digest();
    const n = digest.readUIntBE(0, 6);
    return {
      secretId,
      secretKey: '',
      appId: 1300000000 + (n % 99_999_999),
      uin: String(200000000000 + (n % 99_999_999_999)),
      known: false,
    };
  }

  byAppIdOf(appId: number): Account | undefined {
    return this.byAppId.get(appId);
  }

  list(): Account[] {
    return [...this.bySecretId.values()];
  }
}
