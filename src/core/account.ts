/** An account as configured: its keys, APPID and owner UIN. */
export interface AccountConfig {
  secretId: string;
  secretKey: string;
  appId: number;
  uin: string;
}

/** The account a request runs as (the gateway finds it; handlers store under its UIN). */
export interface Account extends AccountConfig {
  /** False for tenants made up in lenient mode: their signatures are not checked. */
  known: boolean;
}
